DROP INDEX `calls_org_batch_idx`;--> statement-breakpoint
CREATE INDEX `calls_org_batch_created_idx` ON `calls` (`org_id`,`batch_call_id`,`created_at`);