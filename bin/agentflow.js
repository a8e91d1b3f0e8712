#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so the package works from a clone without a build step. In
// this process, not a child: signals (SIGTERM from a process manager, SIGINT) reach the CLI itself,
// which `agentflow serve` needs to stop cleanly.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
