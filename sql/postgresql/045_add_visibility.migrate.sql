-- glance-db:remaining SELECT count(*) FROM images WHERE visibility IS NULL
-- Version 45, migrate phase (PostgreSQL): Glance's ocata_migrate01 in
-- bounded batches. Run the statement until it changes no row; a run stopped
-- at any point just continues (the rows still NULL are the work left).
--
-- Only rows the expand phase left with visibility NULL are filled (rows
-- written since then got theirs from the triggers and keep it), by the rule
-- of docs/glance-versions.md, deleted images included:
--   is_public true                                   -> public
--   otherwise, with an image_members row not deleted -> shared
--   otherwise                                        -> private
-- The batch comes from visibility_image_idx: ORDER BY visibility (all NULL,
-- so no order at all) makes the index the cheap plan even when statistics
-- say most rows are NULL, where a sequential scan would first step over
-- every row already done. The outer `visibility IS NULL` is rechecked on a
-- row another session changed meanwhile, so its new value is kept.

UPDATE images i
   SET visibility = CASE
         WHEN i.is_public THEN 'public'::image_visibility
         WHEN EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = i.id AND NOT m.deleted) THEN 'shared'::image_visibility
         ELSE 'private'::image_visibility
       END
 WHERE i.visibility IS NULL
   AND i.id IN (SELECT id FROM images WHERE visibility IS NULL ORDER BY visibility LIMIT 2000);
