import { rollingWindow } from './rolling-window.js';

rollingWindow('mysql');
