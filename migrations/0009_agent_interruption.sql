ALTER TABLE `agents` ADD `interruption` text;--> statement-breakpoint
ALTER TABLE `agents` ADD `max_duration_message` text;