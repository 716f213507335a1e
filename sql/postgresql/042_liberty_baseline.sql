-- Version 42: liberty_baseline (PostgreSQL)
-- The whole Glance schema as of Liberty: images and their properties,
-- locations, members and tags; tasks and task_info; the six metadef_*
-- tables; the six artifact* tables (dropped again at 46).
-- Equals Glance's Alembic revision `liberty` (legacy migration 42).
-- Integer surrogate keys are serial, so their sequences are named
-- <table>_id_seq and owned by the column, as SQLAlchemy made them.
-- Objects are created in the current schema (search_path).

CREATE TABLE artifact_blob_locations (
    id character varying(36) NOT NULL,
    blob_id character varying(36) NOT NULL,
    value text NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    "position" integer,
    status character varying(36)
);

CREATE TABLE artifact_blobs (
    id character varying(36) NOT NULL,
    artifact_id character varying(36) NOT NULL,
    size bigint NOT NULL,
    checksum character varying(32),
    name character varying(255) NOT NULL,
    item_key character varying(329),
    "position" integer,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);

CREATE TABLE artifact_dependencies (
    id character varying(36) NOT NULL,
    artifact_source character varying(36) NOT NULL,
    artifact_dest character varying(36) NOT NULL,
    artifact_origin character varying(36) NOT NULL,
    is_direct boolean NOT NULL,
    "position" integer,
    name character varying(36),
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);

CREATE TABLE artifact_properties (
    id character varying(36) NOT NULL,
    artifact_id character varying(36) NOT NULL,
    name character varying(255) NOT NULL,
    string_value character varying(255),
    int_value integer,
    numeric_value numeric,
    bool_value boolean,
    text_value text,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    "position" integer
);

CREATE TABLE artifact_tags (
    id character varying(36) NOT NULL,
    artifact_id character varying(36) NOT NULL,
    value character varying(255) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);

CREATE TABLE artifacts (
    id character varying(36) NOT NULL,
    name character varying(255) NOT NULL,
    type_name character varying(255) NOT NULL,
    type_version_prefix bigint NOT NULL,
    type_version_suffix character varying(255),
    type_version_meta character varying(255),
    version_prefix bigint NOT NULL,
    version_suffix character varying(255),
    version_meta character varying(255),
    description text,
    visibility character varying(32) NOT NULL,
    state character varying(32) NOT NULL,
    owner character varying(255) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    deleted_at timestamp without time zone,
    published_at timestamp without time zone
);

CREATE TABLE image_locations (
    id serial NOT NULL,
    image_id character varying(36) NOT NULL,
    value text NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone,
    deleted_at timestamp without time zone,
    deleted boolean NOT NULL,
    meta_data text,
    status character varying(30) DEFAULT 'active'::character varying NOT NULL
);

CREATE TABLE image_members (
    id serial NOT NULL,
    image_id character varying(36) NOT NULL,
    member character varying(255) NOT NULL,
    can_share boolean NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone,
    deleted_at timestamp without time zone,
    deleted boolean NOT NULL,
    status character varying(20) DEFAULT 'pending'::character varying NOT NULL
);

CREATE TABLE image_properties (
    id serial NOT NULL,
    image_id character varying(36) NOT NULL,
    name character varying(255) NOT NULL,
    value text,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone,
    deleted_at timestamp without time zone,
    deleted boolean NOT NULL
);

CREATE TABLE image_tags (
    id serial NOT NULL,
    image_id character varying(36) NOT NULL,
    value character varying(255) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone,
    deleted_at timestamp without time zone,
    deleted boolean NOT NULL
);

CREATE TABLE images (
    id character varying(36) NOT NULL,
    name character varying(255),
    size bigint,
    status character varying(30) NOT NULL,
    is_public boolean NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone,
    deleted_at timestamp without time zone,
    deleted boolean NOT NULL,
    disk_format character varying(20),
    container_format character varying(20),
    checksum character varying(32),
    owner character varying(255),
    min_disk integer NOT NULL,
    min_ram integer NOT NULL,
    protected boolean DEFAULT false NOT NULL,
    virtual_size bigint
);

CREATE TABLE metadef_namespace_resource_types (
    resource_type_id integer NOT NULL,
    namespace_id integer NOT NULL,
    properties_target character varying(80),
    prefix character varying(80),
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone
);

CREATE TABLE metadef_namespaces (
    id serial NOT NULL,
    namespace character varying(80) NOT NULL,
    display_name character varying(80),
    description text,
    visibility character varying(32),
    protected boolean,
    owner character varying(255) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone
);

CREATE TABLE metadef_objects (
    id serial NOT NULL,
    namespace_id integer NOT NULL,
    name character varying(80) NOT NULL,
    description text,
    required text,
    json_schema text NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone
);

CREATE TABLE metadef_properties (
    id serial NOT NULL,
    namespace_id integer NOT NULL,
    name character varying(80) NOT NULL,
    json_schema text NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone
);

CREATE TABLE metadef_resource_types (
    id serial NOT NULL,
    name character varying(80) NOT NULL,
    protected boolean NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone
);

CREATE TABLE metadef_tags (
    id serial NOT NULL,
    namespace_id integer NOT NULL,
    name character varying(80) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone
);

CREATE TABLE task_info (
    task_id character varying(36) NOT NULL,
    input text,
    result text,
    message text
);

CREATE TABLE tasks (
    id character varying(36) NOT NULL,
    type character varying(30) NOT NULL,
    status character varying(30) NOT NULL,
    owner character varying(255) NOT NULL,
    expires_at timestamp without time zone,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone,
    deleted_at timestamp without time zone,
    deleted boolean NOT NULL
);

-- Primary keys and unique constraints, with the names Glance gave them.

ALTER TABLE artifact_blob_locations
    ADD CONSTRAINT artifact_blob_locations_pkey PRIMARY KEY (id);

ALTER TABLE artifact_blobs
    ADD CONSTRAINT artifact_blobs_pkey PRIMARY KEY (id);

ALTER TABLE artifact_dependencies
    ADD CONSTRAINT artifact_dependencies_pkey PRIMARY KEY (id);

ALTER TABLE artifact_properties
    ADD CONSTRAINT artifact_properties_pkey PRIMARY KEY (id);

ALTER TABLE artifact_tags
    ADD CONSTRAINT artifact_tags_pkey PRIMARY KEY (id);

ALTER TABLE artifacts
    ADD CONSTRAINT artifacts_pkey PRIMARY KEY (id);

ALTER TABLE image_locations
    ADD CONSTRAINT image_locations_pkey PRIMARY KEY (id);

ALTER TABLE image_members
    ADD CONSTRAINT image_members_image_id_member_deleted_at_key UNIQUE (image_id, member, deleted_at);

ALTER TABLE image_members
    ADD CONSTRAINT image_members_pkey PRIMARY KEY (id);

ALTER TABLE image_properties
    ADD CONSTRAINT image_properties_pkey PRIMARY KEY (id);

ALTER TABLE image_tags
    ADD CONSTRAINT image_tags_pkey PRIMARY KEY (id);

ALTER TABLE images
    ADD CONSTRAINT images_pkey PRIMARY KEY (id);

ALTER TABLE image_properties
    ADD CONSTRAINT ix_image_properties_image_id_name UNIQUE (image_id, name);

ALTER TABLE metadef_namespace_resource_types
    ADD CONSTRAINT metadef_namespace_resource_types_pkey PRIMARY KEY (resource_type_id, namespace_id);

ALTER TABLE metadef_namespaces
    ADD CONSTRAINT metadef_namespaces_pkey PRIMARY KEY (id);

ALTER TABLE metadef_objects
    ADD CONSTRAINT metadef_objects_pkey PRIMARY KEY (id);

ALTER TABLE metadef_properties
    ADD CONSTRAINT metadef_properties_pkey PRIMARY KEY (id);

ALTER TABLE metadef_resource_types
    ADD CONSTRAINT metadef_resource_types_pkey PRIMARY KEY (id);

ALTER TABLE metadef_tags
    ADD CONSTRAINT metadef_tags_pkey PRIMARY KEY (id);

ALTER TABLE task_info
    ADD CONSTRAINT task_info_pkey PRIMARY KEY (task_id);

ALTER TABLE tasks
    ADD CONSTRAINT tasks_pkey PRIMARY KEY (id);

ALTER TABLE metadef_namespaces
    ADD CONSTRAINT uq_metadef_namespaces_namespace UNIQUE (namespace);

ALTER TABLE metadef_objects
    ADD CONSTRAINT uq_metadef_objects_namespace_id_name UNIQUE (namespace_id, name);

ALTER TABLE metadef_properties
    ADD CONSTRAINT uq_metadef_properties_namespace_id_name UNIQUE (namespace_id, name);

ALTER TABLE metadef_resource_types
    ADD CONSTRAINT uq_metadef_resource_types_name UNIQUE (name);

ALTER TABLE metadef_tags
    ADD CONSTRAINT uq_metadef_tags_namespace_id_name UNIQUE (namespace_id, name);

CREATE INDEX checksum_image_idx ON images (checksum);
CREATE INDEX ix_artifact_blob_locations_blob_id ON artifact_blob_locations (blob_id);
CREATE INDEX ix_artifact_blobs_artifact_id ON artifact_blobs (artifact_id);
CREATE INDEX ix_artifact_blobs_name ON artifact_blobs (name);
CREATE INDEX ix_artifact_dependencies_dest_id ON artifact_dependencies (artifact_dest);
CREATE INDEX ix_artifact_dependencies_direct_dependencies ON artifact_dependencies (artifact_source, is_direct);
CREATE INDEX ix_artifact_dependencies_origin_id ON artifact_dependencies (artifact_origin);
CREATE INDEX ix_artifact_dependencies_source_id ON artifact_dependencies (artifact_source);
CREATE INDEX ix_artifact_name_and_version ON artifacts (name, version_prefix, version_suffix);
CREATE INDEX ix_artifact_owner ON artifacts (owner);
CREATE INDEX ix_artifact_properties_artifact_id ON artifact_properties (artifact_id);
CREATE INDEX ix_artifact_properties_name ON artifact_properties (name);
CREATE INDEX ix_artifact_state ON artifacts (state);
CREATE INDEX ix_artifact_tags_artifact_id ON artifact_tags (artifact_id);
CREATE INDEX ix_artifact_tags_artifact_id_tag_value ON artifact_tags (artifact_id, value);
CREATE INDEX ix_artifact_type ON artifacts (type_name, type_version_prefix, type_version_suffix);
CREATE INDEX ix_artifact_visibility ON artifacts (visibility);
CREATE INDEX ix_image_locations_deleted ON image_locations (deleted);
CREATE INDEX ix_image_locations_image_id ON image_locations (image_id);
CREATE INDEX ix_image_members_deleted ON image_members (deleted);
CREATE INDEX ix_image_members_image_id ON image_members (image_id);
CREATE INDEX ix_image_members_image_id_member ON image_members (image_id, member);
CREATE INDEX ix_image_properties_deleted ON image_properties (deleted);
CREATE INDEX ix_image_properties_image_id ON image_properties (image_id);
CREATE INDEX ix_image_tags_image_id ON image_tags (image_id);
CREATE INDEX ix_image_tags_image_id_tag_value ON image_tags (image_id, value);
CREATE INDEX ix_images_deleted ON images (deleted);
CREATE INDEX ix_images_is_public ON images (is_public);
CREATE INDEX ix_metadef_namespaces_owner ON metadef_namespaces (owner);
CREATE INDEX ix_metadef_ns_res_types_namespace_id ON metadef_namespace_resource_types (namespace_id);
CREATE INDEX ix_metadef_objects_name ON metadef_objects (name);
CREATE INDEX ix_metadef_properties_name ON metadef_properties (name);
CREATE INDEX ix_metadef_tags_name ON metadef_tags (name);
CREATE INDEX ix_tasks_deleted ON tasks (deleted);
CREATE INDEX ix_tasks_owner ON tasks (owner);
CREATE INDEX ix_tasks_status ON tasks (status);
CREATE INDEX ix_tasks_type ON tasks (type);
CREATE INDEX ix_tasks_updated_at ON tasks (updated_at);
CREATE INDEX owner_image_idx ON images (owner);

-- Foreign keys last: every referenced table exists by now.

ALTER TABLE artifact_blob_locations
    ADD CONSTRAINT artifact_blob_locations_blob_id_fkey FOREIGN KEY (blob_id) REFERENCES artifact_blobs(id);

ALTER TABLE artifact_blobs
    ADD CONSTRAINT artifact_blobs_artifact_id_fkey FOREIGN KEY (artifact_id) REFERENCES artifacts(id);

ALTER TABLE artifact_dependencies
    ADD CONSTRAINT artifact_dependencies_artifact_dest_fkey FOREIGN KEY (artifact_dest) REFERENCES artifacts(id);

ALTER TABLE artifact_dependencies
    ADD CONSTRAINT artifact_dependencies_artifact_origin_fkey FOREIGN KEY (artifact_origin) REFERENCES artifacts(id);

ALTER TABLE artifact_dependencies
    ADD CONSTRAINT artifact_dependencies_artifact_source_fkey FOREIGN KEY (artifact_source) REFERENCES artifacts(id);

ALTER TABLE artifact_properties
    ADD CONSTRAINT artifact_properties_artifact_id_fkey FOREIGN KEY (artifact_id) REFERENCES artifacts(id);

ALTER TABLE artifact_tags
    ADD CONSTRAINT artifact_tags_artifact_id_fkey FOREIGN KEY (artifact_id) REFERENCES artifacts(id);

ALTER TABLE image_locations
    ADD CONSTRAINT image_locations_image_id_fkey FOREIGN KEY (image_id) REFERENCES images(id);

ALTER TABLE image_members
    ADD CONSTRAINT image_members_image_id_fkey FOREIGN KEY (image_id) REFERENCES images(id);

ALTER TABLE image_properties
    ADD CONSTRAINT image_properties_image_id_fkey FOREIGN KEY (image_id) REFERENCES images(id);

ALTER TABLE image_tags
    ADD CONSTRAINT image_tags_image_id_fkey FOREIGN KEY (image_id) REFERENCES images(id);

ALTER TABLE metadef_namespace_resource_types
    ADD CONSTRAINT metadef_namespace_resource_types_namespace_id_fkey FOREIGN KEY (namespace_id) REFERENCES metadef_namespaces(id);

ALTER TABLE metadef_namespace_resource_types
    ADD CONSTRAINT metadef_namespace_resource_types_resource_type_id_fkey FOREIGN KEY (resource_type_id) REFERENCES metadef_resource_types(id);

ALTER TABLE metadef_objects
    ADD CONSTRAINT metadef_objects_namespace_id_fkey FOREIGN KEY (namespace_id) REFERENCES metadef_namespaces(id);

ALTER TABLE metadef_properties
    ADD CONSTRAINT metadef_properties_namespace_id_fkey FOREIGN KEY (namespace_id) REFERENCES metadef_namespaces(id);

ALTER TABLE metadef_tags
    ADD CONSTRAINT metadef_tags_namespace_id_fkey FOREIGN KEY (namespace_id) REFERENCES metadef_namespaces(id);

ALTER TABLE task_info
    ADD CONSTRAINT task_info_task_id_fkey FOREIGN KEY (task_id) REFERENCES tasks(id);
