-- Version 49: location_backend_to_store (PostgreSQL)
-- Data only: multi-store locations call their store "store", no longer
-- "backend". Every "backend": key in image_locations.meta_data (JSON text)
-- becomes "store":, as Glance's train_migrate01 does; rows without it are
-- left alone, so running it twice changes nothing.

UPDATE image_locations
   SET meta_data = replace(meta_data, '"backend":', '"store":')
 WHERE strpos(meta_data, '"backend":') > 0;
