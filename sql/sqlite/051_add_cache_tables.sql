-- Version 51: add_cache_tables (SQLite)
-- Bookkeeping of the image cache in the database: the glance-api nodes
-- (node_reference) and the images each one caches (cached_images).
-- Equals Glance's 2024_1_expand01 (2024_1_contract01 is empty).

CREATE TABLE node_reference (
	node_reference_id INTEGER NOT NULL,
	node_reference_url VARCHAR(255) NOT NULL,
	PRIMARY KEY (node_reference_id),
	CONSTRAINT uq_node_reference_node_reference_url UNIQUE (node_reference_url)
);

CREATE TABLE cached_images (
	id INTEGER NOT NULL,
	image_id VARCHAR(36) NOT NULL,
	last_accessed DATETIME NOT NULL,
	last_modified DATETIME NOT NULL,
	size BIGINT NOT NULL,
	hits INTEGER NOT NULL,
	checksum VARCHAR(32),
	node_reference_id INTEGER NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(node_reference_id) REFERENCES node_reference (node_reference_id),
	CONSTRAINT ix_cached_images_image_id_node_reference_id UNIQUE (image_id, node_reference_id)
);
