-- Version 46: drop_artifacts_tables (PostgreSQL)
-- The artifact repository (Glare) left Glance; its six tables go, children
-- before parents. Equals Glance's pike_contract01 (pike_expand01 and the
-- queens revisions are empty).

DROP TABLE artifact_blob_locations;
DROP TABLE artifact_properties;
DROP TABLE artifact_blobs;
DROP TABLE artifact_dependencies;
DROP TABLE artifact_tags;
DROP TABLE artifacts;
