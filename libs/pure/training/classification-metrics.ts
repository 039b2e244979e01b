/**
 * Precision, recall and F1 over a whole set (never averaged over batches): binary for two classes
 * (the second label is the positive one), macro-averaged otherwise over the classes that occur in the
 * set or in the predictions (as scikit-learn does; a class absent from both has no score to average).
 * A score whose denominator is zero counts as 0.
 */
export function classificationScores(
  predicted: Int32Array,
  actual: Int32Array,
  classes: number,
): { precision: number; recall: number; f1: number } {
  const truePositive = new Float64Array(classes);
  const predictedCount = new Float64Array(classes);
  const actualCount = new Float64Array(classes);
  for (let i = 0; i < predicted.length; i++) {
    predictedCount[predicted[i]]++;
    actualCount[actual[i]]++;
    if (predicted[i] === actual[i]) truePositive[actual[i]]++;
  }
  const score = (c: number) => {
    const precision = predictedCount[c] ? truePositive[c] / predictedCount[c] : 0;
    const recall = actualCount[c] ? truePositive[c] / actualCount[c] : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1 };
  };
  if (classes === 2) return score(1);
  const total = { precision: 0, recall: 0, f1: 0 };
  let present = 0;
  for (let c = 0; c < classes; c++) {
    if (!predictedCount[c] && !actualCount[c]) continue;
    present++;
    const s = score(c);
    total.precision += s.precision;
    total.recall += s.recall;
    total.f1 += s.f1;
  }
  if (!present) return total;
  return { precision: total.precision / present, recall: total.recall / present, f1: total.f1 / present };
}
