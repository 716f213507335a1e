-- Version 51: add_cache_tables (PostgreSQL)
-- Bookkeeping of the image cache in the database: the glance-api nodes
-- (node_reference) and the images each one caches (cached_images).
-- Equals Glance's 2024_1_expand01 (2024_1_contract01 is empty).
-- Keys are bigserial: BigInteger autoincrement columns in Glance's model.

CREATE TABLE node_reference (
    node_reference_id bigserial NOT NULL,
    node_reference_url character varying(255) NOT NULL,
    CONSTRAINT node_reference_pkey PRIMARY KEY (node_reference_id),
    CONSTRAINT uq_node_reference_node_reference_url UNIQUE (node_reference_url)
);

CREATE TABLE cached_images (
    id bigserial NOT NULL,
    image_id character varying(36) NOT NULL,
    last_accessed timestamp without time zone NOT NULL,
    last_modified timestamp without time zone NOT NULL,
    size bigint NOT NULL,
    hits integer NOT NULL,
    checksum character varying(32),
    node_reference_id bigint NOT NULL,
    CONSTRAINT cached_images_pkey PRIMARY KEY (id),
    CONSTRAINT ix_cached_images_image_id_node_reference_id UNIQUE (image_id, node_reference_id),
    CONSTRAINT cached_images_node_reference_id_fkey FOREIGN KEY (node_reference_id) REFERENCES node_reference (node_reference_id)
);
