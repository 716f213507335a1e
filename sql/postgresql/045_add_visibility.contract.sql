-- glance-db:report privateImagesWithMembers "private image(s) with live members, left private (their members see them once the owner shares them)" SELECT count(*) FROM images i WHERE i.visibility = 'private' AND NOT i.deleted AND EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = i.id AND NOT m.deleted)
-- Version 45, contract phase (PostgreSQL): Glance's ocata_contract01. Runs
-- only when no old glance-api is left and the migrate phase is complete.
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
-- The triggers and their functions go, visibility becomes NOT NULL DEFAULT
-- 'shared' (a NULL left behind fails here and the transaction changes
-- nothing), and is_public goes, its index ix_images_is_public with it.

DROP TRIGGER insert_visibility ON images;
DROP TRIGGER update_visibility ON images;
DROP FUNCTION insert_visibility();
DROP FUNCTION update_visibility();

ALTER TABLE images ALTER COLUMN visibility SET DEFAULT 'shared';
ALTER TABLE images ALTER COLUMN visibility SET NOT NULL;

ALTER TABLE images DROP COLUMN is_public;
