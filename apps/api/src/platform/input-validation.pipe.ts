import { type ArgumentMetadata, Injectable, type Type, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage, type ValidationError } from 'class-validator';

import { AppError } from '#libs/core/errors';

/** Each rule's message starts with its property name (libs/core/validation); a nested one gets its path in front. */
export function validationMessages(errors: readonly ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const own = Object.values(error.constraints ?? {}).map((message) => (parent ? `${parent}.${message}` : message));
    const path = parent ? `${parent}.${error.property}` : error.property;
    return [...own, ...validationMessages(error.children ?? [], path)];
  });
}

const ruledProperties = new WeakMap<Type, readonly string[]>();

/** The properties of an input class that carry class-validator rules. */
function propertiesWithRules(metatype: Type): readonly string[] {
  let properties = ruledProperties.get(metatype);
  if (!properties) {
    const rules = getMetadataStorage().getTargetValidationMetadatas(metatype, '', false, false);
    properties = [...new Set(rules.map((rule) => rule.propertyName))];
    ruledProperties.set(metatype, properties);
  }
  return properties;
}

/**
 * Nest's ValidationPipe with the rules the input DTOs declare (GraphQL inputs and args, REST bodies), refusing
 * with BAD_USER_INPUT naming each field and what is wrong. Two things differ from the stock pipe, both so the
 * value a resolver gets is the value the client sent:
 * - only the properties that carry rules are handed to class-transformer: JSON inputs (a model spec, a search space)
 *   are data with keys such as `constructor` or `__proto__`, which class-transformer mangles or chokes on, and which
 *   their own validators in the pure libraries refuse by name;
 * - the value is returned as it came (the stock pipe strips `constructor` and `__proto__` keys from it in place,
 *   which would let a spec with such a key pass unnoticed).
 */
@Injectable()
export class InputValidationPipe extends ValidationPipe {
  constructor() {
    super({ exceptionFactory: (errors) => AppError.badInput(validationMessages(errors).join('; ')) });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const { metatype } = metadata;
    if (!metatype || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    const properties = propertiesWithRules(metatype);
    if (properties.length === 0) return value;
    const ruled = value as Record<string, unknown>;
    const checked = Object.fromEntries(
      properties.filter((key) => Object.hasOwn(ruled, key)).map((key) => [key, ruled[key]]),
    );
    await super.transform(checked, metadata);
    return value;
  }
}
