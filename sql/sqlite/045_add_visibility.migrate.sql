-- glance-db:remaining SELECT count(*) FROM images WHERE visibility IS NULL
-- Version 45, migrate phase (SQLite): Glance's ocata_migrate01 in bounded
-- batches. Run the statement until it changes no row; a run stopped at any
-- point just continues (the rows still NULL are the work left).
--
-- Only rows the expand phase left with visibility NULL are filled (rows
-- written since then got theirs from the triggers and keep it), by the rule
-- of docs/glance-versions.md, deleted images included:
--   is_public true                                   -> public
--   otherwise, with an image_members row not deleted -> shared
--   otherwise                                        -> private
-- The batch is found through visibility_image_idx, so each batch costs its
-- own rows, not a scan over the rows already done: INDEXED BY, because
-- with statistics (ANALYZE) saying most rows are NULL the planner prefers
-- scanning the table.
-- The member test is correlated on image_members.image_id; `+m.deleted`
-- keeps the planner off the index on deleted, which would scan every
-- member for every image.

UPDATE images
   SET visibility = CASE
         WHEN is_public = 1 THEN 'public'
         WHEN EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = images.id AND +m.deleted = 0) THEN 'shared'
         ELSE 'private'
       END
 WHERE visibility IS NULL
   AND id IN (SELECT id FROM images INDEXED BY visibility_image_idx WHERE visibility IS NULL LIMIT 2000);
