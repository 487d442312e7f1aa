namespace MLNetRnn.Samples;

/// <summary>
/// A synthetic retail panel: daily sales of many products, each with its own size (5 to 500 a day), trend (−30% to
/// +50% a year), weekly pattern (shaped by its category) and multiplicative noise, and promotions planned in advance
/// (about one day in twelve, in runs of one to three days) that lift sales by 60% to 140% depending on the product and
/// its category. Generated from a seed, so every run sees the same panel.
/// </summary>
public static class RetailPanel
{
    /// <summary>One day of one product.</summary>
    public sealed class Sale
    {
        /// <summary>The product (the series id).</summary>
        public string Product { get; set; } = "";

        /// <summary>The product's category: "Fresh", "Grocery" or "Household" (a static feature).</summary>
        public string Category { get; set; } = "";

        /// <summary>The day.</summary>
        public DateTime Date { get; set; }

        /// <summary>Units sold.</summary>
        public float Sales { get; set; }

        /// <summary>1 on a promotion day, planned in advance (a known-future covariate), else 0.</summary>
        public float Promo { get; set; }

        /// <summary>The median of the day's sales as generated (level, trend, weekday and promotion, without the
        /// noise): the forecast of someone who knows how the panel was made. Its MASE is the floor that no forecaster
        /// reaches on average, so it shows how much any model could still gain. Not an input.</summary>
        public float Median { get; set; }
    }

    private static readonly string[] Categories = ["Fresh", "Grocery", "Household"];

    // Weekly profiles, Sunday first: fresh food peaks at the weekend, household goods barely move.
    private static readonly double[][] Weekly =
    [
        [1.25, 0.80, 0.85, 0.90, 0.95, 1.15, 1.40],
        [1.10, 0.90, 0.90, 0.95, 1.00, 1.05, 1.20],
        [1.05, 0.95, 0.97, 0.98, 1.00, 1.00, 1.05],
    ];

    private static readonly double[] CategoryLift = [1.3, 1.0, 0.7];

    /// <summary>Generates <paramref name="products"/> products × <paramref name="days"/> days from <paramref name="start"/>,
    /// rows grouped by product, days in order.</summary>
    /// <param name="products">Number of series.</param>
    /// <param name="days">Days per series.</param>
    /// <param name="seed">Seed of every random choice.</param>
    /// <param name="start">The first day; default 2022-01-03.</param>
    public static Sale[] Generate(int products, int days, int seed, DateTime? start = null)
    {
        var first = start ?? new DateTime(2022, 1, 3);
        var sales = new Sale[products * days];
        for (int p = 0; p < products; p++)
        {
            // Each product draws from its own generator, so product p is the same in panels of any size.
            var rng = new Random(unchecked(seed * 1_000_003 + p * 7_919 + 17));
            int category = rng.Next(Categories.Length);
            double level = Math.Exp(Math.Log(5) + rng.NextDouble() * (Math.Log(500) - Math.Log(5)));
            double growth = -0.3 + 0.8 * rng.NextDouble();
            double lift = (0.6 + 0.8 * rng.NextDouble()) * CategoryLift[category];
            double noise = 0.08 + 0.08 * rng.NextDouble();
            var weekly = Weekly[category].Select(w => w * (1 + 0.05 * Normal(rng))).ToArray();
            int promoLeft = 0;
            for (int t = 0; t < days; t++)
            {
                var date = first.AddDays(t);
                if (promoLeft == 0 && rng.NextDouble() < 0.04) promoLeft = 1 + rng.Next(3);
                bool promo = promoLeft > 0;
                if (promo) promoLeft--;
                double trend = Math.Max(0.2, 1 + growth * t / 365.0);
                double mean = level * trend * weekly[(int)date.DayOfWeek] * (promo ? 1 + lift : 1);
                sales[p * days + t] = new Sale
                {
                    Product = $"P{p:D5}", Category = Categories[category], Date = date, Promo = promo ? 1f : 0f,
                    Sales = (float)(mean * Math.Exp(noise * Normal(rng) - noise * noise / 2)),
                    Median = (float)(mean * Math.Exp(-noise * noise / 2)),
                };
            }
        }
        return sales;
    }

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
