DROP INDEX `voices_org_provider_voice_idx`;--> statement-breakpoint
ALTER TABLE `voices` ADD `training_attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `voices` ADD `training_next_attempt_at` text;--> statement-breakpoint
ALTER TABLE `voices` ADD `training_error` text;--> statement-breakpoint
CREATE INDEX `voices_training_idx` ON `voices` (`status`,`training_next_attempt_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `voices_org_provider_voice_idx` ON `voices` (`org_id`,`provider`,`provider_voice_id`) WHERE provider_voice_id <> '';