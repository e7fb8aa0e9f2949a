// Money as the API holds it: whole minor units with a currency ({amount: 2999, currency: "usd"}).
// People type prices in major units ("29.99") and read them in the currency's own format
// ("$29.99"); every page converts between the two here.

// How many digits a currency has after the point: 2 for USD, 0 for JPY, 3 for KWD.
export function fractionDigits(currency) {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency: currency.toUpperCase() })
      .resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

// The smallest step a price input takes in a currency: "0.01", "1", "0.001".
export function priceStep(currency) {
  const digits = fractionDigits(currency);
  return digits ? (1 / 10 ** digits).toFixed(digits) : "1";
}

// 2999 in USD -> 29.99 (a number, for sums and charts).
export function majorUnits(amount, currency) {
  return amount / 10 ** fractionDigits(currency);
}

// 2999 in USD -> "29.99", as a price field shows it.
export function toMajor(amount, currency) {
  return majorUnits(amount, currency).toFixed(fractionDigits(currency));
}

// "29.99" in USD -> 2999; NaN when the text is blank or not a number, so callers can say so.
export function toMinor(text, currency) {
  const trimmed = String(text).trim();
  const value = Number(trimmed);
  if (trimmed === "" || !Number.isFinite(value)) return NaN;
  return Math.round(value * 10 ** fractionDigits(currency));
}

// {amount: 2999, currency: "usd"} -> "$29.99"; "" for no price.
export function money(price) {
  if (!price) return "";
  const currency = (price.currency || "usd").toUpperCase();
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).format(majorUnits(price.amount, currency));
  } catch {
    return `${(price.amount / 100).toFixed(2)} ${currency}`;
  }
}
