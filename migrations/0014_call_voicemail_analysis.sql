ALTER TABLE `agents` ADD `voicemail` text;--> statement-breakpoint
ALTER TABLE `agents` ADD `success_criteria` text;--> statement-breakpoint
ALTER TABLE `agents` ADD `analysis_schema` text;--> statement-breakpoint
ALTER TABLE `calls` ADD `analysis` text;--> statement-breakpoint
ALTER TABLE `calls` ADD `analysis_status` text;--> statement-breakpoint
ALTER TABLE `calls` ADD `analysis_attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `calls` ADD `analysis_next_attempt_at` text;--> statement-breakpoint
CREATE INDEX `calls_analysis_pending_idx` ON `calls` (`analysis_status`,`analysis_next_attempt_at`);