-- Version 44: update_metadef_os_nova_server (PostgreSQL)
-- Data only: the metadef resource type OS::Nova::Instance was renamed
-- OS::Nova::Server by Nova; follow it. Equals Glance's mitaka02.

UPDATE metadef_resource_types
   SET name = 'OS::Nova::Server'
 WHERE name = 'OS::Nova::Instance';
