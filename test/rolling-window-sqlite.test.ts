import { rollingWindow } from './rolling-window.js';

rollingWindow('sqlite');
