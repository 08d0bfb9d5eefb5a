// Preloaded into a child (`node --import`) to list every module it loads, one URL a line, in
// the file HEARTH_TRACE_IMPORTS names: how tests see what a command pays for at start-up.
import { register } from 'node:module';

register('./trace-imports-hooks.mjs', import.meta.url, { data: { file: process.env.HEARTH_TRACE_IMPORTS } });
