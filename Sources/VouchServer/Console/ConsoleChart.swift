import Foundation

/// A bar chart drawn on the server as SVG, with its numbers as a table beside it: what the picture
/// shows, a screen reader reads and a keyboard reaches (each bar links to the list behind it).
struct ConsoleChart: Sendable {
    struct Bar: Sendable {
        var label: String
        var value: Int
        /// The page listing what the bar counts, if there is one.
        var link: String?
    }

    var title: String
    /// What the bars are ("state", "hour"): the table's first column.
    var category: String
    var bars: [Bar]
    /// What the numbers count ("devices", "signals"), for the text alternative.
    var unit: String
    /// Label only every `labelEvery`-th bar on the axis (24 hours do not fit one label each).
    var labelEvery = 1

    static let width = 560
    static let height = 180
    private static let axis = 28
    private static let top = 16

    /// The chart as HTML: a figure holding the SVG and a table of the same numbers.
    var html: String {
        let total = bars.reduce(0) { $0 + $1.value }
        let highest = max(1, bars.map(\.value).max() ?? 0)
        let slot = Double(Self.width) / Double(max(1, bars.count))
        let barWidth = max(2, min(64, slot * 0.7))
        let plot = Double(Self.height - Self.axis - Self.top)
        let summary = bars.isEmpty
            ? "\(title): nothing to show"
            : "\(title): " + bars.map { "\($0.label) \($0.value)" }.joined(separator: ", ") + " (\(total) \(unit) in all)"
        var svg = #"<svg class="chart" viewBox="-16 0 \#(Self.width + 32) \#(Self.height)" width="\#(Self.width)" height="\#(Self.height)" role="img" aria-label="\#(HTML.escape(summary))" focusable="false">"#
        svg += #"<line class="chart-axis" x1="0" y1="\#(Self.height - Self.axis)" x2="\#(Self.width)" y2="\#(Self.height - Self.axis)"/>"#
        for (index, bar) in bars.enumerated() {
            let height = bar.value == 0 ? 0 : max(1.5, plot * Double(bar.value) / Double(highest))
            let x = Double(index) * slot + (slot - barWidth) / 2
            let y = Double(Self.height - Self.axis) - height
            var shape = #"<rect class="chart-bar" x="\#(Self.figure(x))" y="\#(Self.figure(y))" width="\#(Self.figure(barWidth))" height="\#(Self.figure(height))"><title>\#(HTML.escape("\(bar.label): \(bar.value) \(unit)"))</title></rect>"#
            if bar.value > 0 {
                shape += #"<text class="chart-value" x="\#(Self.figure(x + barWidth / 2))" y="\#(Self.figure(y - 3))" text-anchor="middle">\#(bar.value)</text>"#
            }
            if index % max(1, labelEvery) == 0 {
                shape += #"<text class="chart-label" x="\#(Self.figure(x + barWidth / 2))" y="\#(Self.height - Self.axis + 16)" text-anchor="middle">\#(HTML.escape(bar.label))</text>"#
            }
            // Links inside the picture are for the pointer; the table below carries them for the
            // keyboard and screen readers, so the picture's are kept out of the tab order.
            if let link = bar.link {
                svg += #"<a href="\#(HTML.escape(link))" tabindex="-1" aria-hidden="true">\#(shape)</a>"#
            } else {
                svg += shape
            }
        }
        svg += "</svg>"
        var table = #"<table class="chart-data"><caption>\#(HTML.escape(title))</caption><thead><tr><th scope="col">\#(HTML.escape(category))</th><th scope="col">\#(HTML.escape(unit))</th></tr></thead><tbody>"#
        for bar in bars {
            let label = bar.link.map { #"<a href="\#(HTML.escape($0))">\#(HTML.escape(bar.label))</a>"# } ?? HTML.escape(bar.label)
            table += "<tr><td>\(label)</td><td>\(bar.value)</td></tr>"
        }
        table += "</tbody></table>"
        return #"<figure class="chart-figure"><figcaption>\#(HTML.escape(title)) <span class="muted">(\#(total) \#(HTML.escape(unit)))</span></figcaption>\#(svg)<details><summary>The numbers</summary>\#(table)</details></figure>"#
    }

    private static func figure(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}

/// HTML text escaping, for what the server writes outside templates (charts).
enum HTML {
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }
}
