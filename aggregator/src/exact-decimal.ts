/**
 * A decimal number held exactly as `units * 10^-scale` with a BigInt, so that sums of many
 * Binance decimal strings ("0.00123000") carry no binary rounding error. Only the final
 * conversion to a Float64 column rounds, once.
 */
export class ExactDecimal {
  static readonly ZERO = new ExactDecimal(0n, 0);

  private constructor(
    readonly units: bigint,
    readonly scale: number,
  ) {}

  /** Parses a plain decimal string: optional sign, digits, optional fraction. */
  static parse(text: string): ExactDecimal {
    const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
    if (!match) throw new Error(`not a decimal number: ${JSON.stringify(text)}`);
    const [, sign = '', whole = '', fraction = ''] = match;
    const units = BigInt(whole + fraction);
    return new ExactDecimal(sign === '-' ? -units : units, fraction.length);
  }

  /**
   * The decimal a Float64 stands for when written in its shortest round-trip form, rounded
   * to `maxScale` fraction digits: the decimal a Float64 column was written from, as long
   * as that had at most `maxScale` decimals and the column's ulp is below 10^-maxScale.
   */
  static fromNumber(value: number, maxScale = Number.POSITIVE_INFINITY): ExactDecimal {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    return ExactDecimal.parse(plainDecimal(value)).rounded(maxScale);
  }

  plus(other: ExactDecimal): ExactDecimal {
    const scale = Math.max(this.scale, other.scale);
    return new ExactDecimal(this.rescaled(scale) + other.rescaled(scale), scale);
  }

  minus(other: ExactDecimal): ExactDecimal {
    const scale = Math.max(this.scale, other.scale);
    return new ExactDecimal(this.rescaled(scale) - other.rescaled(scale), scale);
  }

  times(other: ExactDecimal): ExactDecimal {
    return new ExactDecimal(this.units * other.units, this.scale + other.scale);
  }

  /** The quotient rounded half away from zero to `scale` fraction digits. */
  dividedBy(divisor: ExactDecimal, scale: number): ExactDecimal {
    if (divisor.units === 0n) throw new Error('division by zero');
    // this / divisor = (units * 10^(scale + divisor.scale - this.scale)) / divisor.units, in units of 10^-scale
    const shift = scale + divisor.scale - this.scale;
    let numerator = shift >= 0 ? this.units * 10n ** BigInt(shift) : this.units;
    let denominator = shift >= 0 ? divisor.units : divisor.units * 10n ** BigInt(-shift);
    if (denominator < 0n) {
      numerator = -numerator;
      denominator = -denominator;
    }
    const magnitude = numerator < 0n ? -numerator : numerator;
    const rounded = (2n * magnitude + denominator) / (2n * denominator);
    return new ExactDecimal(numerator < 0n ? -rounded : rounded, scale);
  }

  compare(other: ExactDecimal): -1 | 0 | 1 {
    const scale = Math.max(this.scale, other.scale);
    const a = this.rescaled(scale);
    const b = other.rescaled(scale);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  /** Rounded half away from zero to at most `scale` fraction digits. */
  rounded(scale: number): ExactDecimal {
    if (this.scale <= scale) return this;
    const divisor = 10n ** BigInt(this.scale - scale);
    const magnitude = this.units < 0n ? -this.units : this.units;
    const rounded = (magnitude + divisor / 2n) / divisor;
    return new ExactDecimal(this.units < 0n ? -rounded : rounded, scale);
  }

  /** Whether the value fits Decimal(integerDigits + fractionDigits, fractionDigits) without rounding. */
  fits(integerDigits: number, fractionDigits: number): boolean {
    const trimmed = ExactDecimal.parse(this.toString());
    const magnitude = trimmed.units < 0n ? -trimmed.units : trimmed.units;
    return trimmed.scale <= fractionDigits && magnitude < 10n ** BigInt(integerDigits + trimmed.scale);
  }

  isZero(): boolean {
    return this.units === 0n;
  }

  /** Plain decimal text without trailing fraction zeros: "1.5", "-0.001", "42". */
  toString(): string {
    const negative = this.units < 0n;
    const digits = (negative ? -this.units : this.units).toString().padStart(this.scale + 1, '0');
    const whole = digits.slice(0, digits.length - this.scale);
    const fraction = digits.slice(digits.length - this.scale).replace(/0+$/, '');
    return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
  }

  /** The nearest Float64 (JavaScript's decimal parsing rounds correctly). */
  toNumber(): number {
    return Number(this.toString());
  }

  private rescaled(scale: number): bigint {
    return this.units * 10n ** BigInt(scale - this.scale);
  }
}

/** Writes a finite number without exponent notation: 1e-8 -> "0.00000001", 1e21 -> "1000000000000000000000". */
export function plainDecimal(value: number): string {
  const text = String(value);
  const exponentAt = text.indexOf('e');
  if (exponentAt < 0) return text;
  const exponent = Number(text.slice(exponentAt + 1));
  let mantissa = text.slice(0, exponentAt);
  const negative = mantissa.startsWith('-');
  if (negative) mantissa = mantissa.slice(1);
  const pointAt = mantissa.indexOf('.');
  const digits = mantissa.replace('.', '');
  const point = (pointAt < 0 ? mantissa.length : pointAt) + exponent;
  const body =
    point <= 0
      ? `0.${'0'.repeat(-point)}${digits}`
      : point >= digits.length
        ? digits + '0'.repeat(point - digits.length)
        : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return (negative ? '-' : '') + body;
}
