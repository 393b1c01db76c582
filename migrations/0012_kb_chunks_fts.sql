-- Custom migration (drizzle-kit cannot describe virtual tables or triggers): the BM25 keyword
-- index over knowledge_chunks.text. External-content FTS5 table: it stores only the index and
-- reads the text from knowledge_chunks by rowid (= knowledge_chunks.id). The triggers keep it in
-- step with every insert, delete (including ON DELETE CASCADE from sources and knowledge bases)
-- and text update. Porter stemming over unicode61 ("returns" finds "return"), diacritics folded.
CREATE VIRTUAL TABLE `knowledge_chunks_fts` USING fts5(
	text,
	content='knowledge_chunks',
	content_rowid='id',
	tokenize='porter unicode61 remove_diacritics 2'
);
--> statement-breakpoint
CREATE TRIGGER `knowledge_chunks_fts_insert` AFTER INSERT ON `knowledge_chunks` BEGIN
	INSERT INTO knowledge_chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
--> statement-breakpoint
CREATE TRIGGER `knowledge_chunks_fts_delete` AFTER DELETE ON `knowledge_chunks` BEGIN
	INSERT INTO knowledge_chunks_fts(knowledge_chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
--> statement-breakpoint
CREATE TRIGGER `knowledge_chunks_fts_update` AFTER UPDATE OF text ON `knowledge_chunks` BEGIN
	INSERT INTO knowledge_chunks_fts(knowledge_chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
	INSERT INTO knowledge_chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
