-- AlterTable
ALTER TABLE `checkpoints` ADD COLUMN `details` JSON NULL;

-- CreateTable
CREATE TABLE `verifications` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `job_id` INTEGER NOT NULL,
    `source_database` VARCHAR(64) NOT NULL,
    `source_table` VARCHAR(64) NOT NULL,
    `status` VARCHAR(16) NOT NULL,
    `source_rows` BIGINT NULL,
    `warehouse_rows` BIGINT NULL,
    `chunks_done` INTEGER NOT NULL DEFAULT 0,
    `chunks_total` INTEGER NOT NULL DEFAULT 0,
    `differences` JSON NULL,
    `message` TEXT NULL,
    `requested_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `finished_at` DATETIME(3) NULL,

    INDEX `verifications_job_id_source_database_source_table_id_idx`(`job_id`, `source_database`, `source_table`, `id`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- AddForeignKey
ALTER TABLE `verifications` ADD CONSTRAINT `verifications_job_id_fkey` FOREIGN KEY (`job_id`) REFERENCES `sync_jobs`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
