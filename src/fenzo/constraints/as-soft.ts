import type { ConstraintEvaluator, VMTaskFitnessCalculator } from '../plugin.js';

// A constraint as a preference (Fenzo's AsSoftConstraint): hosts that break it stay eligible but
// score lower. Its graded softFitness is used when it has one, else 1 when it holds and 0 when not.

export function asSoftConstraint(constraint: ConstraintEvaluator): VMTaskFitnessCalculator {
  const graded = constraint.softFitness;
  return {
    name: constraint.name,
    calculateFitness:
      graded !== undefined
        ? (task, host, tracker) => graded.call(constraint, task, host, tracker)
        : (task, host, tracker) => (constraint.evaluate(task, host, tracker) ? 1 : 0),
  };
}
