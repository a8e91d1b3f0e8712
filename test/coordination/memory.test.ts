import { createMemoryCoordination } from '../../src/coordination/index.ts';
import { describeCoordinationContract } from './contract.ts';

describeCoordinationContract({
  name: 'memory adapter',
  open: async ({ onError }) => createMemoryCoordination({ onError }),
});
