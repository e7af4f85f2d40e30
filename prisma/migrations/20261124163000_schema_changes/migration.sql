-- CreateTable
CREATE TABLE `schema_changes` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `job_id` INTEGER NOT NULL,
    `source_database` VARCHAR(64) NOT NULL,
    `source_table` VARCHAR(64) NOT NULL,
    `statement` TEXT NOT NULL,
    `kind` VARCHAR(24) NOT NULL,
    `parsed` JSON NOT NULL,
    `behavior` VARCHAR(16) NOT NULL,
    `outcome` VARCHAR(16) NOT NULL,
    `detail` TEXT NULL,
    `duration_ms` DOUBLE NOT NULL,
    `columns_before` JSON NOT NULL,
    `columns_after` JSON NOT NULL,
    `position` JSON NOT NULL,
    `source_time` DATETIME(3) NOT NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `schema_changes_job_id_source_database_source_table_id_idx`(`job_id`, `source_database`, `source_table`, `id`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- AddForeignKey
ALTER TABLE `schema_changes` ADD CONSTRAINT `schema_changes_job_id_fkey` FOREIGN KEY (`job_id`) REFERENCES `sync_jobs`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
