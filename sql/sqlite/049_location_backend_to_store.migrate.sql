-- glance-db:remaining SELECT count(*) FROM image_locations WHERE INSTR(meta_data, '"backend":') > 0
-- Version 49, migrate phase (SQLite): the whole file's rewrite of every
-- "backend": key in image_locations.meta_data to "store": (Glance's
-- train_migrate01), in bounded batches. Run the statement until it changes
-- no row; a rewritten row no longer matches, so a stopped run continues
-- where it was. No index can find the rows (a substring of JSON text): each
-- batch scans up to its 2000th match, reading rows only.

UPDATE image_locations
   SET meta_data = REPLACE(meta_data, '"backend":', '"store":')
 WHERE INSTR(meta_data, '"backend":') > 0
   AND id IN (SELECT id FROM image_locations WHERE INSTR(meta_data, '"backend":') > 0 LIMIT 2000);
