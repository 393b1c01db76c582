CREATE TABLE `knowledge_chunks` (
	`id` integer PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`knowledge_base_id` text NOT NULL,
	`source_id` text NOT NULL,
	`ordinal` integer NOT NULL,
	`text` text NOT NULL,
	`url` text,
	`embedding` blob,
	`created_at` text NOT NULL,
	FOREIGN KEY (`knowledge_base_id`) REFERENCES `knowledge_bases`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`source_id`) REFERENCES `knowledge_sources`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `knowledge_chunks_source_ordinal_idx` ON `knowledge_chunks` (`source_id`,`ordinal`);--> statement-breakpoint
CREATE INDEX `knowledge_chunks_kb_idx` ON `knowledge_chunks` (`org_id`,`knowledge_base_id`);--> statement-breakpoint
ALTER TABLE `knowledge_sources` ADD `crawl` text;--> statement-breakpoint
ALTER TABLE `knowledge_sources` ADD `page_count` integer;--> statement-breakpoint
ALTER TABLE `knowledge_sources` ADD `ingest_token` text;