CREATE TABLE `batch_calls` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`status` text NOT NULL,
	`status_reason` text,
	`agent_id` text NOT NULL,
	`phone_number_ids` text,
	`phone_rotation_strategy` text NOT NULL,
	`contact_source` text NOT NULL,
	`contact_folder_id` text,
	`schedule_type` text NOT NULL,
	`scheduled_at` text,
	`timezone` text NOT NULL,
	`start_time` text,
	`end_time` text,
	`working_days` text NOT NULL,
	`max_concurrent_calls` integer NOT NULL,
	`max_calls_per_day` integer,
	`max_calls_per_number_per_day` integer,
	`retry_failed` integer NOT NULL,
	`max_retry_attempts` integer NOT NULL,
	`retry_policy` text NOT NULL,
	`respect_recipient_timezone` integer NOT NULL,
	`total_contacts` integer NOT NULL,
	`stats` text NOT NULL,
	`started_at` text,
	`paused_at` text,
	`completed_at` text,
	`cancelled_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `batch_calls_org_created_idx` ON `batch_calls` (`org_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `batch_calls_org_status_idx` ON `batch_calls` (`org_id`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `calls_org_to_created_idx` ON `calls` (`org_id`,`to_number`,`created_at`);