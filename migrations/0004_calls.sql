CREATE TABLE `calls` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`direction` text NOT NULL,
	`status` text NOT NULL,
	`end_reason` text,
	`to_number` text NOT NULL,
	`from_number` text NOT NULL,
	`phone_number_id` text,
	`provider` text NOT NULL,
	`provider_call_id` text,
	`variables` text NOT NULL,
	`settings` text NOT NULL,
	`metadata` text NOT NULL,
	`batch_call_id` text,
	`answered_by` text,
	`duration_seconds` integer,
	`cost_credits` real,
	`recording_key` text,
	`recording_url` text,
	`queued_at` text NOT NULL,
	`ringing_at` text,
	`started_at` text,
	`ended_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `calls_org_created_idx` ON `calls` (`org_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `calls_org_status_idx` ON `calls` (`org_id`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `calls_org_agent_idx` ON `calls` (`org_id`,`agent_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `calls_org_batch_idx` ON `calls` (`org_id`,`batch_call_id`);--> statement-breakpoint
CREATE INDEX `calls_provider_call_idx` ON `calls` (`provider_call_id`);--> statement-breakpoint
CREATE TABLE `dnc_numbers` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`phone_number` text NOT NULL,
	`reason` text,
	`source` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dnc_org_phone_idx` ON `dnc_numbers` (`org_id`,`phone_number`);