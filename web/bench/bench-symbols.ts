/** The 20 symbols the benchmark data covers, with a typical price each. */
export const benchSymbols: Record<string, number> = {
  BTCUSDT: 65_000,
  ETHUSDT: 3_100,
  BNBUSDT: 590,
  SOLUSDT: 150,
  XRPUSDT: 0.52,
  DOGEUSDT: 0.16,
  ADAUSDT: 0.45,
  TRXUSDT: 0.12,
  AVAXUSDT: 35,
  SHIBUSDT: 0.000025,
  LINKUSDT: 14,
  DOTUSDT: 7,
  BCHUSDT: 480,
  NEARUSDT: 6.5,
  LTCUSDT: 82,
  MATICUSDT: 0.7,
  UNIUSDT: 9.5,
  ATOMUSDT: 8.8,
  ETCUSDT: 27,
  XLMUSDT: 0.11,
};

export const benchDays = 30;
export const windowsPerDay = 8640;
