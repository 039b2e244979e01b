import { type LayerVariable, type Shape, single, singleShape, type Tensor, type Tf } from './tf-types.js';

export interface PositionEmbeddingConfig {
  sequenceLength: number;
  [base: string]: unknown;
}

export interface TokenAndPositionEmbeddingConfig {
  vocabularySize: number;
  sequenceLength: number;
  embeddingDim: number;
  maskZero?: boolean;
  [base: string]: unknown;
}

function checkSteps(steps: number | null, sequenceLength: number): void {
  if (steps != null && steps > sequenceLength)
    throw new Error(`the input has ${steps} steps, more than sequenceLength ${sequenceLength}`);
}

/** The learned position vectors for `steps` positions, [steps, width], added to x [batch, steps, width]. */
function addPositions(tf: Tf, x: Tensor, positions: LayerVariable): Tensor {
  const steps = x.shape[1]!;
  const table = positions.read();
  return tf.add(x, steps === table.shape[0] ? table : tf.slice(table, [0, 0], [steps, -1]));
}

/**
 * keras-hub's PositionEmbedding, added to its input as the contract says: x + a learned vector per position
 * (glorot-uniform, sequenceLength rows; a shorter input uses the first rows). The mask passes on.
 */
export function definePositionEmbedding(tf: Tf) {
  return class PositionEmbedding extends tf.layers.Layer {
    static readonly className = 'PositionEmbedding';
    readonly sequenceLength: number;
    readonly embeddingsInitializer = tf.initializers.glorotUniform({});
    private positions: LayerVariable;

    constructor(config: PositionEmbeddingConfig) {
      super(config as object);
      this.sequenceLength = config.sequenceLength;
      this.supportsMasking = true;
    }

    override build(inputShape: Shape | Shape[]): void {
      const shape = this.computeOutputShape(inputShape);
      this.positions = this.addWeight(
        'position/embeddings',
        [this.sequenceLength, shape[2]!],
        'float32',
        this.embeddingsInitializer,
      );
      this.built = true;
    }

    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const shape = singleShape(inputShape);
      if (shape.length !== 3 || shape[2] == null)
        throw new Error(`positionEmbedding takes [batch, steps, features], got rank ${shape.length}`);
      checkSteps(shape[1], this.sequenceLength);
      return shape;
    }

    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => addPositions(tf, single(inputs), this.positions));
    }

    override computeMask(_inputs: Tensor | Tensor[], mask?: Tensor | Tensor[]): Tensor | Tensor[] {
      return mask as Tensor;
    }

    override getConfig() {
      return { ...super.getConfig(), sequenceLength: this.sequenceLength };
    }
  };
}

/**
 * keras-hub's TokenAndPositionEmbedding: token ids [batch, steps] → token vectors (uniform ±0.05, Keras's default
 * for embeddings) + learned position vectors (glorot-uniform). With maskZero, id 0 is padding: the layer hands a
 * [batch, steps] mask on to attention, the encoder and globalAveragePooling1d.
 */
export function defineTokenAndPositionEmbedding(tf: Tf) {
  return class TokenAndPositionEmbedding extends tf.layers.Layer {
    static readonly className = 'TokenAndPositionEmbedding';
    readonly vocabularySize: number;
    readonly sequenceLength: number;
    readonly embeddingDim: number;
    readonly maskZero: boolean;
    readonly tokenInitializer = tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05 });
    readonly positionInitializer = tf.initializers.glorotUniform({});
    private tokens: LayerVariable;
    private positions: LayerVariable;

    constructor(config: TokenAndPositionEmbeddingConfig) {
      super(config as object);
      this.vocabularySize = config.vocabularySize;
      this.sequenceLength = config.sequenceLength;
      this.embeddingDim = config.embeddingDim;
      this.maskZero = config.maskZero ?? false;
      this.supportsMasking = true;
    }

    /** The seeding looks a weight's initialiser up here: the two tables draw from different distributions. */
    initializerFor(weightName: string) {
      return weightName.includes('position') ? this.positionInitializer : this.tokenInitializer;
    }

    override build(): void {
      this.tokens = this.addWeight(
        'token/embeddings',
        [this.vocabularySize, this.embeddingDim],
        'float32',
        this.tokenInitializer,
      );
      this.positions = this.addWeight(
        'position/embeddings',
        [this.sequenceLength, this.embeddingDim],
        'float32',
        this.positionInitializer,
      );
      this.built = true;
    }

    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const shape = singleShape(inputShape);
      if (shape.length !== 2)
        throw new Error(`tokenAndPositionEmbedding takes token ids [batch, steps], got rank ${shape.length}`);
      checkSteps(shape[1], this.sequenceLength);
      return [shape[0], shape[1], this.embeddingDim];
    }

    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const ids = single(inputs);
        const [batch, steps] = ids.shape as [number, number];
        const flat = tf.reshape(ids.dtype === 'int32' ? ids : tf.cast(ids, 'int32'), [batch * steps]);
        const vectors = tf.reshape(tf.gather(this.tokens.read(), flat), [batch, steps, this.embeddingDim]);
        return addPositions(tf, vectors, this.positions);
      });
    }

    override computeMask(inputs: Tensor | Tensor[], _mask?: Tensor | Tensor[]): Tensor | Tensor[] {
      return (this.maskZero ? tf.tidy(() => tf.notEqual(single(inputs), 0)) : null) as Tensor;
    }

    override getConfig() {
      const config = {
        vocabularySize: this.vocabularySize,
        sequenceLength: this.sequenceLength,
        embeddingDim: this.embeddingDim,
        maskZero: this.maskZero,
      };
      return { ...super.getConfig(), ...config };
    }
  };
}
