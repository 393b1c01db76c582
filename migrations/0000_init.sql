CREATE TABLE `agents` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`status` text NOT NULL,
	`voice_id` text NOT NULL,
	`system_prompt` text NOT NULL,
	`greeting` text,
	`first_speaker` text DEFAULT 'agent' NOT NULL,
	`model` text NOT NULL,
	`temperature` real NOT NULL,
	`language_hint` text,
	`tool_ids` text NOT NULL,
	`knowledge_base_ids` text NOT NULL,
	`recording_enabled` integer NOT NULL,
	`max_duration` integer NOT NULL,
	`join_timeout` integer NOT NULL,
	`inactivity_timeout` integer NOT NULL,
	`inactivity_message` text,
	`llm` text NOT NULL,
	`stt` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `agents_org_idx` ON `agents` (`org_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`key_hash` text NOT NULL,
	`prefix` text NOT NULL,
	`last4` text NOT NULL,
	`last_used_at` text,
	`revoked_at` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash_idx` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_org_idx` ON `api_keys` (`org_id`);--> statement-breakpoint
CREATE TABLE `contact_folders` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`is_default` integer DEFAULT false NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `contact_folders_org_idx` ON `contact_folders` (`org_id`,`created_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `contact_folders_default_idx` ON `contact_folders` (`org_id`) WHERE is_default = 1;--> statement-breakpoint
CREATE TABLE `contacts` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`folder_id` text NOT NULL,
	`phone_number` text NOT NULL,
	`first_name` text,
	`last_name` text,
	`email` text,
	`company_name` text,
	`industry` text,
	`location` text,
	`pin_code` text,
	`keywords` text,
	`timezone` text,
	`custom_fields` text NOT NULL,
	`call_count` integer DEFAULT 0 NOT NULL,
	`last_called_at` text,
	`last_call_outcome` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`folder_id`) REFERENCES `contact_folders`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `contacts_folder_phone_idx` ON `contacts` (`org_id`,`folder_id`,`phone_number`);--> statement-breakpoint
CREATE INDEX `contacts_org_created_idx` ON `contacts` (`org_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `contacts_org_phone_idx` ON `contacts` (`org_id`,`phone_number`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`org_id` text NOT NULL,
	`route` text NOT NULL,
	`key` text NOT NULL,
	`request_hash` text NOT NULL,
	`state` text NOT NULL,
	`locked_until` integer NOT NULL,
	`response_status` integer,
	`response_body` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`org_id`, `route`, `key`)
);
--> statement-breakpoint
CREATE INDEX `idempotency_created_idx` ON `idempotency_keys` (`created_at`);--> statement-breakpoint
CREATE TABLE `knowledge_bases` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`embedding_model` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `knowledge_bases_org_idx` ON `knowledge_bases` (`org_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `knowledge_sources` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`knowledge_base_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`error` text,
	`file_name` text,
	`content_type` text,
	`size_bytes` integer,
	`object_key` text,
	`urls` text,
	`chunk_count` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`knowledge_base_id`) REFERENCES `knowledge_bases`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `knowledge_sources_kb_idx` ON `knowledge_sources` (`org_id`,`knowledge_base_id`);--> statement-breakpoint
CREATE TABLE `organizations` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`rate_limit_per_minute` integer,
	`max_concurrent_calls` integer DEFAULT 10 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `phone_numbers` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`phone_number` text NOT NULL,
	`provider` text NOT NULL,
	`ownership` text NOT NULL,
	`friendly_name` text,
	`provider_number_id` text,
	`credentials_encrypted` text,
	`sip_server` text,
	`inbound_agent_id` text,
	`outbound_agent_id` text,
	`capabilities` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `phone_numbers_number_idx` ON `phone_numbers` (`phone_number`);--> statement-breakpoint
CREATE INDEX `phone_numbers_org_idx` ON `phone_numbers` (`org_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `phone_numbers_inbound_agent_idx` ON `phone_numbers` (`org_id`,`inbound_agent_id`);--> statement-breakpoint
CREATE INDEX `phone_numbers_outbound_agent_idx` ON `phone_numbers` (`org_id`,`outbound_agent_id`);--> statement-breakpoint
CREATE TABLE `tools` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`model_tool_name` text NOT NULL,
	`description` text,
	`definition` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `tools_org_idx` ON `tools` (`org_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `voices` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text,
	`name` text NOT NULL,
	`provider` text NOT NULL,
	`provider_voice_id` text NOT NULL,
	`type` text NOT NULL,
	`language` text,
	`gender` text,
	`description` text,
	`status` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `voices_org_idx` ON `voices` (`org_id`,`name`);