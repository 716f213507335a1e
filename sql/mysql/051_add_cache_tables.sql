-- Version 51: add_cache_tables (MySQL/MariaDB)
-- Bookkeeping of the image cache in the database: the glance-api nodes
-- (node_reference) and the images each one caches (cached_images).
-- Equals Glance's 2024_1_expand01 (2024_1_contract01 is empty).

CREATE TABLE node_reference (
  node_reference_id bigint(20) NOT NULL AUTO_INCREMENT,
  node_reference_url varchar(255) NOT NULL,
  PRIMARY KEY (node_reference_id),
  UNIQUE KEY uq_node_reference_node_reference_url (node_reference_url)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

CREATE TABLE cached_images (
  id bigint(20) NOT NULL AUTO_INCREMENT,
  image_id varchar(36) NOT NULL,
  last_accessed datetime NOT NULL,
  last_modified datetime NOT NULL,
  size bigint(20) NOT NULL,
  hits int(11) NOT NULL,
  checksum varchar(32) DEFAULT NULL,
  node_reference_id bigint(20) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY ix_cached_images_image_id_node_reference_id (image_id, node_reference_id),
  KEY node_reference_id (node_reference_id),
  CONSTRAINT cached_images_ibfk_1 FOREIGN KEY (node_reference_id) REFERENCES node_reference (node_reference_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;
