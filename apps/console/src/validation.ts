import { BadRequestException } from '@nestjs/common';
import { z } from '@eagle-eye/config';
import { containsClearNumber } from '@eagle-eye/pseudonym';

/** Parses input with a zod schema; a 400 naming each bad field otherwise (values are not echoed). */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  throw new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`),
  });
}

export const idParam = z.string().regex(/^\d{1,18}$/, { message: 'must be a numeric id' });

/** Free text from people: bounded, and never a phone number (the system holds pseudonyms only). */
export const freeText = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((t) => !containsClearNumber(t), { message: 'must not contain phone numbers' });
