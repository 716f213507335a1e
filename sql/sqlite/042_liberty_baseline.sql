-- Version 42: liberty_baseline (SQLite)
-- The whole Glance schema as of Liberty: images and their properties,
-- locations, members and tags; tasks and task_info; the six metadef_*
-- tables; the six artifact* tables (dropped again at 46).
-- Equals Glance's Alembic revision `liberty` (legacy migration 42).
-- Booleans are BOOLEAN with CHECK (col IN (0, 1)), as SQLAlchemy created them.

CREATE TABLE images (
	id VARCHAR(36) NOT NULL,
	name VARCHAR(255),
	size INTEGER,
	status VARCHAR(30) NOT NULL,
	is_public BOOLEAN NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME,
	deleted_at DATETIME,
	deleted BOOLEAN NOT NULL,
	disk_format VARCHAR(20),
	container_format VARCHAR(20),
	checksum VARCHAR(32),
	owner VARCHAR(255),
	min_disk INTEGER NOT NULL,
	min_ram INTEGER NOT NULL,
	protected BOOLEAN DEFAULT (0) NOT NULL,
	virtual_size INTEGER,
	PRIMARY KEY (id),
	CHECK (is_public IN (0, 1)),
	CHECK (deleted IN (0, 1)),
	CHECK (protected IN (0, 1))
);
CREATE INDEX checksum_image_idx ON images (checksum);
CREATE INDEX ix_images_deleted ON images (deleted);
CREATE INDEX ix_images_is_public ON images (is_public);
CREATE INDEX owner_image_idx ON images (owner);
CREATE TABLE image_properties (
	id INTEGER NOT NULL,
	image_id VARCHAR(36) NOT NULL,
	name VARCHAR(255) NOT NULL,
	value TEXT,
	created_at DATETIME NOT NULL,
	updated_at DATETIME,
	deleted_at DATETIME,
	deleted BOOLEAN NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(image_id) REFERENCES images (id),
	CONSTRAINT ix_image_properties_image_id_name UNIQUE (image_id, name),
	CHECK (deleted IN (0, 1))
);
CREATE INDEX ix_image_properties_deleted ON image_properties (deleted);
CREATE INDEX ix_image_properties_image_id ON image_properties (image_id);
CREATE TABLE image_locations (
	id INTEGER NOT NULL,
	image_id VARCHAR(36) NOT NULL,
	value TEXT NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME,
	deleted_at DATETIME,
	deleted BOOLEAN NOT NULL,
	meta_data TEXT,
	status VARCHAR(30) DEFAULT 'active' NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(image_id) REFERENCES images (id),
	CHECK (deleted IN (0, 1))
);
CREATE INDEX ix_image_locations_deleted ON image_locations (deleted);
CREATE INDEX ix_image_locations_image_id ON image_locations (image_id);
CREATE TABLE image_members (
	id INTEGER NOT NULL,
	image_id VARCHAR(36) NOT NULL,
	member VARCHAR(255) NOT NULL,
	can_share BOOLEAN NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME,
	deleted_at DATETIME,
	deleted BOOLEAN NOT NULL,
	status VARCHAR(20) DEFAULT 'pending' NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(image_id) REFERENCES images (id),
	CONSTRAINT image_members_image_id_member_deleted_at_key UNIQUE (image_id, member, deleted_at),
	CHECK (can_share IN (0, 1)),
	CHECK (deleted IN (0, 1))
);
CREATE INDEX ix_image_members_deleted ON image_members (deleted);
CREATE INDEX ix_image_members_image_id ON image_members (image_id);
CREATE INDEX ix_image_members_image_id_member ON image_members (image_id, member);
CREATE TABLE image_tags (
	id INTEGER NOT NULL,
	image_id VARCHAR(36) NOT NULL,
	value VARCHAR(255) NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME,
	deleted_at DATETIME,
	deleted BOOLEAN NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(image_id) REFERENCES images (id),
	CHECK (deleted IN (0, 1))
);
CREATE INDEX ix_image_tags_image_id ON image_tags (image_id);
CREATE INDEX ix_image_tags_image_id_tag_value ON image_tags (image_id, value);
CREATE TABLE tasks (
	id VARCHAR(36) NOT NULL,
	type VARCHAR(30) NOT NULL,
	status VARCHAR(30) NOT NULL,
	owner VARCHAR(255) NOT NULL,
	expires_at DATETIME,
	created_at DATETIME NOT NULL,
	updated_at DATETIME,
	deleted_at DATETIME,
	deleted BOOLEAN NOT NULL,
	PRIMARY KEY (id),
	CHECK (deleted IN (0, 1))
);
CREATE INDEX ix_tasks_deleted ON tasks (deleted);
CREATE INDEX ix_tasks_owner ON tasks (owner);
CREATE INDEX ix_tasks_status ON tasks (status);
CREATE INDEX ix_tasks_type ON tasks (type);
CREATE INDEX ix_tasks_updated_at ON tasks (updated_at);
CREATE TABLE task_info (
	task_id VARCHAR(36) NOT NULL,
	input TEXT,
	result TEXT,
	message TEXT,
	PRIMARY KEY (task_id),
	FOREIGN KEY(task_id) REFERENCES tasks (id)
);
CREATE TABLE metadef_namespaces (
	id INTEGER NOT NULL,
	namespace VARCHAR(80) NOT NULL,
	display_name VARCHAR(80),
	description TEXT,
	visibility VARCHAR(32),
	protected BOOLEAN,
	owner VARCHAR(255) NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME,
	PRIMARY KEY (id),
	CONSTRAINT uq_metadef_namespaces_namespace UNIQUE (namespace),
	CHECK (protected IN (0, 1))
);
CREATE INDEX ix_metadef_namespaces_owner ON metadef_namespaces (owner);
CREATE TABLE metadef_resource_types (
	id INTEGER NOT NULL,
	name VARCHAR(80) NOT NULL,
	protected BOOLEAN NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME,
	PRIMARY KEY (id),
	CONSTRAINT uq_metadef_resource_types_name UNIQUE (name),
	CHECK (protected IN (0, 1))
);
CREATE TABLE metadef_namespace_resource_types (
	resource_type_id INTEGER NOT NULL,
	namespace_id INTEGER NOT NULL,
	properties_target VARCHAR(80),
	prefix VARCHAR(80),
	created_at DATETIME NOT NULL,
	updated_at DATETIME,
	PRIMARY KEY (resource_type_id, namespace_id),
	FOREIGN KEY(namespace_id) REFERENCES metadef_namespaces (id),
	FOREIGN KEY(resource_type_id) REFERENCES metadef_resource_types (id)
);
CREATE INDEX ix_metadef_ns_res_types_namespace_id ON metadef_namespace_resource_types (namespace_id);
CREATE TABLE metadef_objects (
	id INTEGER NOT NULL,
	namespace_id INTEGER NOT NULL,
	name VARCHAR(80) NOT NULL,
	description TEXT,
	required TEXT,
	json_schema TEXT NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME,
	PRIMARY KEY (id),
	FOREIGN KEY(namespace_id) REFERENCES metadef_namespaces (id),
	CONSTRAINT uq_metadef_objects_namespace_id_name UNIQUE (namespace_id, name)
);
CREATE INDEX ix_metadef_objects_name ON metadef_objects (name);
CREATE TABLE metadef_properties (
	id INTEGER NOT NULL,
	namespace_id INTEGER NOT NULL,
	name VARCHAR(80) NOT NULL,
	json_schema TEXT NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME,
	PRIMARY KEY (id),
	FOREIGN KEY(namespace_id) REFERENCES metadef_namespaces (id),
	CONSTRAINT uq_metadef_properties_namespace_id_name UNIQUE (namespace_id, name)
);
CREATE INDEX ix_metadef_properties_name ON metadef_properties (name);
CREATE TABLE metadef_tags (
	id INTEGER NOT NULL,
	namespace_id INTEGER NOT NULL,
	name VARCHAR(80) NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME,
	PRIMARY KEY (id),
	FOREIGN KEY(namespace_id) REFERENCES metadef_namespaces (id),
	CONSTRAINT uq_metadef_tags_namespace_id_name UNIQUE (namespace_id, name)
);
CREATE INDEX ix_metadef_tags_name ON metadef_tags (name);
CREATE TABLE artifacts (
	id VARCHAR(36) NOT NULL,
	name VARCHAR(255) NOT NULL,
	type_name VARCHAR(255) NOT NULL,
	type_version_prefix BIGINT NOT NULL,
	type_version_suffix VARCHAR(255),
	type_version_meta VARCHAR(255),
	version_prefix BIGINT NOT NULL,
	version_suffix VARCHAR(255),
	version_meta VARCHAR(255),
	description TEXT,
	visibility VARCHAR(32) NOT NULL,
	state VARCHAR(32) NOT NULL,
	owner VARCHAR(255) NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	deleted_at DATETIME,
	published_at DATETIME,
	PRIMARY KEY (id)
);
CREATE INDEX ix_artifact_name_and_version ON artifacts (name, version_prefix, version_suffix);
CREATE INDEX ix_artifact_owner ON artifacts (owner);
CREATE INDEX ix_artifact_state ON artifacts (state);
CREATE INDEX ix_artifact_type ON artifacts (type_name, type_version_prefix, type_version_suffix);
CREATE INDEX ix_artifact_visibility ON artifacts (visibility);
CREATE TABLE artifact_blobs (
	id VARCHAR(36) NOT NULL,
	artifact_id VARCHAR(36) NOT NULL,
	size BIGINT NOT NULL,
	checksum VARCHAR(32),
	name VARCHAR(255) NOT NULL,
	item_key VARCHAR(329),
	position INTEGER,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(artifact_id) REFERENCES artifacts (id)
);
CREATE INDEX ix_artifact_blobs_artifact_id ON artifact_blobs (artifact_id);
CREATE INDEX ix_artifact_blobs_name ON artifact_blobs (name);
CREATE TABLE artifact_dependencies (
	id VARCHAR(36) NOT NULL,
	artifact_source VARCHAR(36) NOT NULL,
	artifact_dest VARCHAR(36) NOT NULL,
	artifact_origin VARCHAR(36) NOT NULL,
	is_direct BOOLEAN NOT NULL,
	position INTEGER,
	name VARCHAR(36),
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(artifact_dest) REFERENCES artifacts (id),
	FOREIGN KEY(artifact_origin) REFERENCES artifacts (id),
	FOREIGN KEY(artifact_source) REFERENCES artifacts (id),
	CHECK (is_direct IN (0, 1))
);
CREATE INDEX ix_artifact_dependencies_dest_id ON artifact_dependencies (artifact_dest);
CREATE INDEX ix_artifact_dependencies_direct_dependencies ON artifact_dependencies (artifact_source, is_direct);
CREATE INDEX ix_artifact_dependencies_origin_id ON artifact_dependencies (artifact_origin);
CREATE INDEX ix_artifact_dependencies_source_id ON artifact_dependencies (artifact_source);
CREATE TABLE artifact_properties (
	id VARCHAR(36) NOT NULL,
	artifact_id VARCHAR(36) NOT NULL,
	name VARCHAR(255) NOT NULL,
	string_value VARCHAR(255),
	int_value INTEGER,
	numeric_value NUMERIC,
	bool_value BOOLEAN,
	text_value TEXT,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	position INTEGER,
	PRIMARY KEY (id),
	FOREIGN KEY(artifact_id) REFERENCES artifacts (id),
	CHECK (bool_value IN (0, 1))
);
CREATE INDEX ix_artifact_properties_artifact_id ON artifact_properties (artifact_id);
CREATE INDEX ix_artifact_properties_name ON artifact_properties (name);
CREATE TABLE artifact_tags (
	id VARCHAR(36) NOT NULL,
	artifact_id VARCHAR(36) NOT NULL,
	value VARCHAR(255) NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(artifact_id) REFERENCES artifacts (id)
);
CREATE INDEX ix_artifact_tags_artifact_id ON artifact_tags (artifact_id);
CREATE INDEX ix_artifact_tags_artifact_id_tag_value ON artifact_tags (artifact_id, value);
CREATE TABLE artifact_blob_locations (
	id VARCHAR(36) NOT NULL,
	blob_id VARCHAR(36) NOT NULL,
	value TEXT NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	position INTEGER,
	status VARCHAR(36),
	PRIMARY KEY (id),
	FOREIGN KEY(blob_id) REFERENCES artifact_blobs (id)
);
CREATE INDEX ix_artifact_blob_locations_blob_id ON artifact_blob_locations (blob_id);
