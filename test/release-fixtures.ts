// Shared by the release tests: what an installed Glance looks like on disk.

/** The version files Debian's Glance zed (25.1.0) ships: its newest contract revision is wallaby_contract01. */
export const ZED_VERSION_FILES = [
  '__init__.py',
  'liberty_initial.py',
  'mitaka01_add_image_created_updated_idx.py',
  'mitaka02_update_metadef_os_nova_server.py',
  'ocata_contract01_drop_is_public.py',
  'ocata_expand01_add_visibility.py',
  'pike_contract01_drop_artifacts_tables.py',
  'pike_expand01_empty.py',
  'queens_contract01_empty.py',
  'queens_expand01_empty.py',
  'rocky_contract01_empty.py',
  'rocky_contract02_empty.py',
  'rocky_expand01_add_os_hidden.py',
  'rocky_expand02_add_os_hash_.py',
  'train_contract01_empty.py',
  'train_expand01_empty.py',
  'ussuri_contract01_empty.py',
  'ussuri_expand01_empty.py',
  'wallaby_contract01_empty.py',
  'wallaby_expand01_add_user_imageid_requestid_to_tasks.py',
];

/** Glance 2023.1 (antelope, 26): zed's files and the empty revisions it added (xena to 2023_1), as in openstack/glance. */
export const ANTELOPE_VERSION_FILES = [
  ...ZED_VERSION_FILES,
  'xena_contract01_empty.py',
  'xena_expand01_empty.py',
  'yoga_contract01_empty.py',
  'yoga_expand01_empty.py',
  'zed_contract01_empty.py',
  'zed_expand01_empty.py',
  '2023_1_contract01_empty.py',
  '2023_1_expand01_empty.py',
];
