using System.Globalization;
using System.Text;
using ExcelDataReader;

namespace MLNetRnn.Benchmarks;

/// <summary>
/// Writes the M3 competition's data file (M3C.xls, as the International Institute of Forecasters publishes it: one sheet
/// per frequency, each row a series with its N values, the last NF of them the competition's test part) as a
/// collection folder that the <c>collection</c> command reads (Collections/README.md's layout). Not bundled: M3 is a
/// third collection of the M1 kind, a check on defaults chosen on M1 that a user can run with the file beside them.
///
///     import-m3 --xls M3C.xls --out DIR
///
/// Yearly m = 1, quarterly m = 4, monthly m = 12; "other" series have no stated season and take m = 1. The anchors
/// files are written empty: the competition's published table averages differently (docs/accuracy.md, M3).
/// </summary>
internal static class ImportM3
{
    private static readonly Dictionary<string, (string Period, int M)> Sheets = new(StringComparer.Ordinal)
    {
        ["M3Year"] = ("YEARLY", 1), ["M3Quart"] = ("QUARTERLY", 4), ["M3Month"] = ("MONTHLY", 12), ["M3Other"] = ("OTHER", 1),
    };

    public static int Run(string[] args)
    {
        var flags = Accuracy.Flags.Parse(args);
        string xls = flags.TryGet("xls") ?? throw new ArgumentException("--xls FILE is required: the M3 competition's M3C.xls.");
        string output = flags.TryGet("out") ?? throw new ArgumentException("--out DIR is required: the collection folder to write.");
        if (!File.Exists(xls)) throw new FileNotFoundException($"--xls: no file {xls}.", xls);
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);   // .xls (BIFF) text is in a Windows code page
        Directory.CreateDirectory(Path.Combine(output, "data"));
        var rows = new List<string> { "series,file,m,h,n,period,type" };
        using var stream = File.OpenRead(xls);
        using var reader = ExcelReaderFactory.CreateReader(stream);
        do
        {
            if (!Sheets.TryGetValue(reader.Name, out var kind)) continue;
            int count = 0;
            bool header = true;
            while (reader.Read())
            {
                if (header) { header = false; continue; }   // Series, N, NF, Category, Starting Year, Starting Month, values…
                if (reader.GetValue(0) is null) continue;
                string id = Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture)!.Trim();
                int n = Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture), h = Convert.ToInt32(reader.GetValue(2), CultureInfo.InvariantCulture);
                string category = Convert.ToString(reader.GetValue(3), CultureInfo.InvariantCulture)!.Trim();
                if (reader.FieldCount < 6 + n)
                    throw new InvalidDataException($"{xls}, sheet {reader.Name}, series {id}: N is {n}, but the row has {reader.FieldCount - 6} values.");
                var lines = new List<string>(n + 1) { "time,value" };
                for (int t = 0; t < n; t++)
                {
                    // Convert.ToDouble(null) is 0: an empty cell would pass for a value.
                    object cell = reader.GetValue(6 + t) ?? throw new InvalidDataException($"{xls}, sheet {reader.Name}, series {id}: value {t + 1} of {n} is empty.");
                    lines.Add(string.Create(CultureInfo.InvariantCulture, $"{t + 1},{Convert.ToDouble(cell, CultureInfo.InvariantCulture):R}"));
                }
                File.WriteAllLines(Path.Combine(output, "data", id + ".csv"), lines);
                rows.Add(string.Create(CultureInfo.InvariantCulture, $"{id},{id}.csv,{kind.M},{h},{n - h},{kind.Period},{category}"));
                count++;
            }
            Console.WriteLine($"{reader.Name}: {count} series ({kind.Period}, m {kind.M})");
        } while (reader.NextResult());
        if (rows.Count == 1) throw new InvalidDataException($"{xls}: none of the sheets {string.Join(", ", Sheets.Keys)}; is it the M3 competition's M3C.xls?");
        File.WriteAllLines(Path.Combine(output, "series.csv"), rows);
        File.WriteAllText(Path.Combine(output, "anchors.csv"), "method,period,sMAPE,MASE,source\n");
        File.WriteAllText(Path.Combine(output, "anchor_forecasts.csv"), "series,method,origin,seed,step,y,f\n");
        Console.WriteLine($"wrote {rows.Count - 1} series to {output}");
        return 0;
    }
}
