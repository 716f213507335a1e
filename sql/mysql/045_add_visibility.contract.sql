-- glance-db:report privateImagesWithMembers "private image(s) with live members, left private (their members see them once the owner shares them)" SELECT count(*) FROM images i WHERE i.visibility = 'private' AND i.deleted = 0 AND EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = i.id AND m.deleted = 0)
-- Version 45, contract phase (MySQL/MariaDB): Glance's ocata_contract01.
-- Runs only when no old glance-api is left and the migrate phase is
-- complete.
--
-- glance-db runs it only once no row still needs the migrate phase
-- (visibility NULL): until then contract refuses, with the count and the
-- command that finishes them, as Glance's contract refuses while
-- has_migrations. Unlike Glance (whose has_migrations, and migrate after
-- it, also turn every `private` image with a member row not deleted into
-- `shared`), it never rewrites a visibility: by now the new release writes
-- `private` on purpose, and making such an image `shared` would give its
-- members access again (issue 32; README "Rolling upgrade"). Such images are
-- only counted, for the operator (the report line above).
--
-- The triggers go first, before is_public (Glance drops the column first,
-- which leaves triggers naming a column that no longer exists). Then one
-- ALTER, one online rebuild: visibility NOT NULL DEFAULT 'shared' (a NULL
-- left behind fails it and nothing changes), is_public, its index and its
-- CHECK gone.

DROP TRIGGER insert_visibility;
DROP TRIGGER update_visibility;

ALTER TABLE images
  MODIFY visibility enum('private','public','shared','community') NOT NULL DEFAULT 'shared',
  DROP INDEX ix_images_is_public,
  DROP COLUMN is_public;
