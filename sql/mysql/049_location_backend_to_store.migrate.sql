-- glance-db:remaining SELECT count(*) FROM image_locations WHERE INSTR(meta_data, '"backend":') > 0
-- Version 49, migrate phase (MySQL/MariaDB): the whole file's rewrite of
-- every "backend": key in image_locations.meta_data to "store": (Glance's
-- train_migrate01), in bounded batches. Run the statement until it changes
-- no row; a rewritten row no longer matches, so a stopped run continues
-- where it was. No index can find the rows (a substring of JSON text): the
-- batch's ids are picked in a derived table and the rows are then updated
-- by primary key, so only those rows are locked for writing (a
-- single-table UPDATE ... LIMIT would lock every row its scan steps over).

UPDATE image_locations l
  JOIN (SELECT id FROM image_locations
         WHERE INSTR(meta_data, '"backend":') > 0
         ORDER BY id
         LIMIT 2000) b ON b.id = l.id
   SET l.meta_data = REPLACE(l.meta_data, '"backend":', '"store":')
 WHERE INSTR(l.meta_data, '"backend":') > 0;
