-- glance-db:remaining SELECT count(*) FROM images WHERE visibility IS NULL
-- Version 45, migrate phase (MySQL/MariaDB): Glance's ocata_migrate01 in
-- bounded batches. Run the statement until it changes no row; a run stopped
-- at any point just continues (the rows still NULL are the work left).
--
-- Only rows the expand phase left with visibility NULL are filled (rows
-- written since then got theirs from the triggers and keep it), by the rule
-- of docs/glance-versions.md, deleted images included:
--   is_public true                                   -> public
--   otherwise, with an image_members row not deleted -> shared
--   otherwise                                        -> private
-- FORCE INDEX keeps the batch on visibility_image_idx: while most rows are
-- NULL the optimizer would otherwise walk the primary key, stepping over
-- (and locking) every row already done. No ORDER BY: MariaDB sorts every
-- NULL row for it (filesort) on each batch; which rows a batch takes does
-- not matter, each gets the same value on a replica (row-based binary log,
-- as Galera requires, logs the rows). update_visibility fires for each row
-- and sets is_public to the value it already has.

UPDATE images FORCE INDEX (visibility_image_idx)
   SET visibility = CASE
         WHEN is_public = 1 THEN 'public'
         WHEN EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = images.id AND m.deleted = 0) THEN 'shared'
         ELSE 'private'
       END
 WHERE visibility IS NULL
 LIMIT 2000;
