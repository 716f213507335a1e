// Glance's names, for the messages of the engine and the dialects
// (src/core/driver/application.ts): handed in as this module loads. The
// rules (src/glance/rules.ts), which cli puts in every run, import it.
import { provideApplication } from '../core/driver/application.js';

provideApplication({ name: 'Glance', server: 'glance-api', tool: 'glance-manage', database: 'glance' });
