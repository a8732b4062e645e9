import type { ClusterStats, VMTaskFitnessCalculator } from '../plugin.js';

// Spreaders: the opposite of bin packing, for tasks that should not share hosts more than needed
// (latency-sensitive services). A host scores the share of its total still free after placing the
// task, so the emptiest host wins; groupSpreader instead prefers hosts with fewer of the group's tasks.

/** Share of `total` left free after taking `requested`. One division of integers, so one rounding. */
export function freeShare(total: number, free: number, requested: number): number {
  return total > 0 ? (free - requested) / total : 1;
}

/**
 * Best free share a host with at most `freeCpusMax` free can keep: (f - r) / T is largest for the
 * most free on the smallest host that holds it, and T >= max(f, minTotalCpus).
 */
function cpuFreeShareBound(requested: number, freeCpusMax: number, cluster: ClusterStats): number {
  const free = Math.min(freeCpusMax, cluster.maxTotalCpus);
  return freeShare(Math.max(free, cluster.minTotalCpus), free, requested);
}

export const cpuSpreader: VMTaskFitnessCalculator = {
  name: 'CPUSpreader',
  searchOrder: 'spreading',
  calculateFitness: (task, host) => freeShare(host.totalCpus, host.freeCpus, task.resources.cpus),
  upperBound: (task, _freeCpusMin, freeCpusMax, cluster) => cpuFreeShareBound(task.resources.cpus, freeCpusMax, cluster),
};

export const memorySpreader: VMTaskFitnessCalculator = {
  name: 'MemorySpreader',
  searchOrder: 'spreading',
  calculateFitness: (task, host) => freeShare(host.totalMem, host.freeMem, task.resources.mem),
};

export const cpuMemSpreader: VMTaskFitnessCalculator = {
  name: 'CPUAndMemorySpreader',
  searchOrder: 'spreading',
  calculateFitness: (task, host) =>
    (freeShare(host.totalCpus, host.freeCpus, task.resources.cpus) +
      freeShare(host.totalMem, host.freeMem, task.resources.mem)) /
    2,
  upperBound: (task, _freeCpusMin, freeCpusMax, cluster) =>
    (cpuFreeShareBound(task.resources.cpus, freeCpusMax, cluster) + 1) / 2,
};

/** 1 on a host without tasks of the task's group, 1/2 with one, 1/3 with two... */
export const groupSpreader: VMTaskFitnessCalculator = {
  name: 'GroupSpreader',
  searchOrder: 'spreading',
  calculateFitness: (task, host, tracker) => 1 / (1 + tracker.groupTasksOnHost(task.groupName, host)),
};
