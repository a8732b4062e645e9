import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { registryContract } from './registry.contract.js';

registryContract('in-memory', async () => new MemoryItemStore());
