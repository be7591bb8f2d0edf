#!/usr/bin/env node
// Runs the compiled server (dist/cli.mjs), compiling it first when a source is newer: no manual
// build step, and no TypeScript compiler in the running server's memory.
import { pathToFileURL } from 'node:url';
import { ensureBuild } from '../scripts/build.mjs';

const { main } = await import(pathToFileURL(await ensureBuild()).href);
const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
