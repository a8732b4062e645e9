import { ValidationError } from '../../core/errors.js';
import type { ClusterStats, VMTaskFitnessCalculator } from '../plugin.js';

// Composes calculators, e.g. 0.7 bin packing + 0.3 group spreading (Fenzo's WeightedAverageFitnessCalculator).

export interface WeightedFitnessCalculator {
  readonly calculator: VMTaskFitnessCalculator;
  /** Non-negative; weights are normalised by their sum. */
  readonly weight: number;
}

export function weightedAverage(parts: readonly WeightedFitnessCalculator[]): VMTaskFitnessCalculator {
  if (parts.length === 0) throw new ValidationError('weightedAverage needs at least one calculator', 'parts');
  let total = 0;
  parts.forEach((p, i) => {
    if (!(p.weight >= 0) || !Number.isFinite(p.weight)) {
      throw new ValidationError(`parts[${i}].weight must be a non-negative number`, `parts[${i}].weight`);
    }
    total += p.weight;
  });
  if (!(total > 0)) throw new ValidationError('the weights must not all be zero', 'parts');
  const calculators = parts.map((p) => p.calculator);
  const weights = Float64Array.from(parts, (p) => p.weight);
  const bounded = calculators.some((c) => c.upperBound !== undefined);
  let spreading = 0;
  parts.forEach((p) => (spreading += p.calculator.searchOrder === 'spreading' ? p.weight : -p.weight));

  const calculator: VMTaskFitnessCalculator = {
    name: `WeightedAverage(${parts.map((p) => `${p.calculator.name}:${p.weight}`).join(',')})`,
    searchOrder: spreading > 0 ? 'spreading' : 'packing',
    calculateFitness(task, host, tracker) {
      let sum = 0;
      for (let k = 0; k < calculators.length; k++) sum += weights[k]! * calculators[k]!.calculateFitness(task, host, tracker);
      return sum / total;
    },
  };
  if (!bounded) return calculator;
  // Same sum in the same order, with each part replaced by its bound (1 when it has none).
  return {
    ...calculator,
    upperBound(task, freeCpusMin: number, freeCpusMax: number, cluster: ClusterStats) {
      let sum = 0;
      for (let k = 0; k < calculators.length; k++) {
        const c = calculators[k]!;
        sum += weights[k]! * (c.upperBound === undefined ? 1 : c.upperBound(task, freeCpusMin, freeCpusMax, cluster));
      }
      return sum / total;
    },
  };
}
