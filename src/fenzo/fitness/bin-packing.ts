import type { ClusterStats, VMTaskFitnessCalculator } from '../plugin.js';

// Bin packers (Fenzo's BinPackingFitnessCalculators): a host scores the share of its total that
// would be in use once the task is placed, so the fullest host that still fits wins and whole
// hosts stay free for big tasks. A resource the host has none of counts as full (score 1).

/** Share of `total` in use after taking `requested` from `free`. One division of integers, so one rounding. */
export function packedShare(total: number, free: number, requested: number): number {
  return total > 0 ? (total - free + requested) / total : 1;
}

/**
 * Best CPU share any host with at least `freeCpusMin` free can reach: the least free (but enough)
 * on the largest host. Same expression as packedShare, on values that make it larger.
 */
function cpuShareBound(requested: number, freeCpusMin: number, cluster: ClusterStats): number {
  return packedShare(cluster.maxTotalCpus, Math.max(freeCpusMin, requested), requested);
}

export const cpuBinPacker: VMTaskFitnessCalculator = {
  name: 'CPUBinPacker',
  calculateFitness: (task, host) => packedShare(host.totalCpus, host.freeCpus, task.resources.cpus),
  upperBound: (task, freeCpusMin, _freeCpusMax, cluster) => cpuShareBound(task.resources.cpus, freeCpusMin, cluster),
};

export const memoryBinPacker: VMTaskFitnessCalculator = {
  name: 'MemoryBinPacker',
  calculateFitness: (task, host) => packedShare(host.totalMem, host.freeMem, task.resources.mem),
};

export const networkBinPacker: VMTaskFitnessCalculator = {
  name: 'NetworkBinPacker',
  calculateFitness: (task, host) => packedShare(host.totalNetwork, host.freeNetwork, task.resources.network),
};

export const cpuMemBinPacker: VMTaskFitnessCalculator = {
  name: 'CPUAndMemoryBinPacker',
  calculateFitness: (task, host) =>
    (packedShare(host.totalCpus, host.freeCpus, task.resources.cpus) +
      packedShare(host.totalMem, host.freeMem, task.resources.mem)) /
    2,
  // Memory's share is at most 1; the sum is rounded the same way as in calculateFitness.
  upperBound: (task, freeCpusMin, _freeCpusMax, cluster) => (cpuShareBound(task.resources.cpus, freeCpusMin, cluster) + 1) / 2,
};

export const cpuMemNetworkBinPacker: VMTaskFitnessCalculator = {
  name: 'CPUAndMemoryAndNetworkBinPacker',
  calculateFitness: (task, host) =>
    (packedShare(host.totalCpus, host.freeCpus, task.resources.cpus) +
      packedShare(host.totalMem, host.freeMem, task.resources.mem) +
      packedShare(host.totalNetwork, host.freeNetwork, task.resources.network)) /
    3,
  upperBound: (task, freeCpusMin, _freeCpusMax, cluster) =>
    (cpuShareBound(task.resources.cpus, freeCpusMin, cluster) + 1 + 1) / 3,
};
