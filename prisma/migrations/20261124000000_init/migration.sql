-- CreateTable
CREATE TABLE `users` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `username` VARCHAR(64) NOT NULL,
    `password_hash` VARCHAR(255) NOT NULL,
    `role` VARCHAR(16) NOT NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    UNIQUE INDEX `users_username_key`(`username`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `sessions` (
    `id` CHAR(64) NOT NULL,
    `user_id` INTEGER NOT NULL,
    `expires_at` DATETIME(3) NOT NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `sessions_user_id_idx`(`user_id`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `source_connections` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `name` VARCHAR(128) NOT NULL,
    `kind` VARCHAR(16) NOT NULL,
    `host` VARCHAR(255) NOT NULL,
    `port` INTEGER NOT NULL,
    `username` VARCHAR(128) NOT NULL,
    `password_enc` TEXT NOT NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updated_at` DATETIME(3) NOT NULL,

    UNIQUE INDEX `source_connections_name_key`(`name`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `sync_jobs` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `name` VARCHAR(128) NOT NULL,
    `source_id` INTEGER NOT NULL,
    `spec` JSON NOT NULL,
    `desired_state` VARCHAR(16) NOT NULL,
    `actual_state` VARCHAR(16) NOT NULL,
    `last_error` TEXT NULL,
    `last_error_at` DATETIME(3) NULL,
    `server_id` INTEGER NOT NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updated_at` DATETIME(3) NOT NULL,

    UNIQUE INDEX `sync_jobs_name_key`(`name`),
    UNIQUE INDEX `sync_jobs_server_id_key`(`server_id`),
    INDEX `sync_jobs_source_id_idx`(`source_id`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `sync_job_tables` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `job_id` INTEGER NOT NULL,
    `source_database` VARCHAR(64) NOT NULL,
    `source_table` VARCHAR(64) NOT NULL,
    `sink_table` VARCHAR(130) NOT NULL,
    `model` VARCHAR(16) NOT NULL,
    `key_columns` JSON NOT NULL,
    `phase` VARCHAR(16) NOT NULL,
    `rows_copied` BIGINT NOT NULL DEFAULT 0,
    `rows_estimate` BIGINT NULL,
    `snapshot_started_at` DATETIME(3) NULL,
    `snapshot_finished_at` DATETIME(3) NULL,
    `updated_at` DATETIME(3) NOT NULL,

    UNIQUE INDEX `sync_job_tables_job_id_source_database_source_table_key`(`job_id`, `source_database`, `source_table`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `checkpoints` (
    `id` BIGINT NOT NULL AUTO_INCREMENT,
    `job_id` INTEGER NOT NULL,
    `position` JSON NOT NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `checkpoints_job_id_id_idx`(`job_id`, `id`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `metric_samples` (
    `id` BIGINT NOT NULL AUTO_INCREMENT,
    `job_id` INTEGER NOT NULL,
    `at` DATETIME(3) NOT NULL,
    `lag_ms` INTEGER NOT NULL,
    `rows_per_sec` DOUBLE NOT NULL,
    `events_total` BIGINT NOT NULL,

    INDEX `metric_samples_job_id_at_idx`(`job_id`, `at`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `worker_status` (
    `id` VARCHAR(64) NOT NULL,
    `pid` INTEGER NOT NULL,
    `started_at` DATETIME(3) NOT NULL,
    `heartbeat_at` DATETIME(3) NOT NULL,
    `restarts` INTEGER NOT NULL DEFAULT 0,
    `last_exit_reason` TEXT NULL,

    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- AddForeignKey
ALTER TABLE `sessions` ADD CONSTRAINT `sessions_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `sync_jobs` ADD CONSTRAINT `sync_jobs_source_id_fkey` FOREIGN KEY (`source_id`) REFERENCES `source_connections`(`id`) ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `sync_job_tables` ADD CONSTRAINT `sync_job_tables_job_id_fkey` FOREIGN KEY (`job_id`) REFERENCES `sync_jobs`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `checkpoints` ADD CONSTRAINT `checkpoints_job_id_fkey` FOREIGN KEY (`job_id`) REFERENCES `sync_jobs`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `metric_samples` ADD CONSTRAINT `metric_samples_job_id_fkey` FOREIGN KEY (`job_id`) REFERENCES `sync_jobs`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
