import Foundation

/// `/docs`: a service's OpenAPI document as one readable HTML page, rendered on the server,
/// with its styles inline and nothing fetched from anywhere (a machine without internet, a
/// strict Content-Security-Policy).
///
/// Per path and method: the summary, the parameters, the request body's schema and each
/// response's status, description and schema; `$ref`s are shown as links to the schemas at
/// the end. Every text from the document is HTML-escaped.
public struct APIDocsPage: Sendable {
    /// A page to link from this one (the gateway links every service's docs).
    public struct Link: Sendable, Equatable {
        public var title: String
        public var href: String

        public init(title: String, href: String) {
            self.title = title
            self.href = href
        }
    }

    public let html: String

    public init(_ document: JSONValue, links: [Link] = []) {
        let title = document["info"]?["title"]?.stringValue ?? "API"
        let version = document["info"]?["version"]?.stringValue ?? ""
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Self.escape(title)) API</title>
            <style>\(Self.style)</style></head><body>
            <h1>\(Self.escape(title)) <small>\(Self.escape(version))</small></h1>
            <p>From the service's OpenAPI 3.1 document, <code>/openapi.json</code> on its own port.</p>

            """
        if !links.isEmpty {
            html += "<nav id=\"services\"><h2>Services</h2><ul>"
            for link in links {
                html += "<li><a href=\"\(Self.escape(link.href))\">\(Self.escape(link.title))</a></li>"
            }
            html += "</ul></nav>\n"
        }
        let paths = document["paths"]?.objectValue ?? [:]
        html += "<section id=\"paths\"><h2>Endpoints</h2>\n"
        for path in paths.keys.sorted() {
            let item = paths[path]?.objectValue ?? [:]
            for method in Self.methods where item[method] != nil {
                html += Self.operation(method: method, path: path, item[method] ?? .null)
            }
        }
        html += "</section>\n"
        let schemas = document["components"]?["schemas"]?.objectValue ?? [:]
        if !schemas.isEmpty {
            html += "<section id=\"schemas\"><h2>Schemas</h2>\n"
            for name in schemas.keys.sorted() {
                html += "<h3 id=\"schema-\(Self.escape(name))\">\(Self.escape(name))</h3>\(Self.schema(schemas[name] ?? .null))\n"
            }
            html += "</section>\n"
        }
        self.html = html + "</body></html>\n"
    }

    static let methods = ["get", "head", "post", "put", "patch", "delete", "options"]

    static func operation(method: String, path: String, _ operation: JSONValue) -> String {
        var html = "<article class=\"operation\"><h3><span class=\"method \(method)\">\(method.uppercased())</span> <code>\(escape(path))</code></h3>"
        if let summary = operation["summary"]?.stringValue { html += "<p>\(escape(summary))</p>" }
        if let description = operation["description"]?.stringValue { html += "<p>\(escape(description))</p>" }
        if let parameters = operation["parameters"]?.arrayValue, !parameters.isEmpty {
            html += "<table><tr><th>parameter</th><th>in</th><th>required</th><th>description</th></tr>"
            for parameter in parameters {
                let required = parameter["required"] == true ? "yes" : "no"
                html += "<tr><td><code>\(escape(parameter["name"]?.stringValue ?? ""))</code></td>"
                html += "<td>\(escape(parameter["in"]?.stringValue ?? ""))</td><td>\(required)</td>"
                html += "<td>\(escape(parameter["description"]?.stringValue ?? ""))</td></tr>"
            }
            html += "</table>"
        }
        if let content = operation["requestBody"]?["content"]?.objectValue {
            for (type, body) in content.sorted(by: { $0.key < $1.key }) {
                html += "<h4>Request body <code>\(escape(type))</code></h4>\(schema(body["schema"] ?? .null))"
            }
        }
        let responses = operation["responses"]?.objectValue ?? [:]
        html += "<h4>Responses</h4><dl>"
        for status in responses.keys.sorted() {
            let response = responses[status] ?? .null
            html += "<dt>\(escape(status))</dt><dd>\(escape(response["description"]?.stringValue ?? ""))"
            for (type, body) in (response["content"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                html += " <code>\(escape(type))</code>\(schema(body["schema"] ?? .null))"
            }
            html += "</dd>"
        }
        return html + "</dl></article>\n"
    }

    /// A schema as indented JSON, with `$ref`s linked to the schemas section.
    static func schema(_ schema: JSONValue) -> String {
        if let reference = schema["$ref"]?.stringValue, schema.objectValue?.count == 1 {
            let name = reference.split(separator: "/").last.map(String.init) ?? reference
            return " <a href=\"#schema-\(escape(name))\">\(escape(name))</a>"
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let text = (try? encoder.encode(schema)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return "<pre>\(escape(text))</pre>"
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    static let style = """
        body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2230}
        h1 small{font-weight:normal;color:#667}code,pre{font-family:ui-monospace,monospace;font-size:13px}
        pre{background:#f4f5f8;padding:.5rem;overflow:auto;border-radius:4px}
        .operation{border-top:1px solid #dde;padding:.5rem 0}.method{display:inline-block;min-width:4.5rem;
        padding:.1rem .4rem;border-radius:3px;color:#fff;background:#556;font-size:13px;text-align:center}
        .get{background:#2f6fb0}.post{background:#2f8f4f}.put,.patch{background:#a86b12}.delete{background:#b03a2e}
        table{border-collapse:collapse}td,th{border:1px solid #dde;padding:.2rem .5rem;text-align:left}
        dt{font-weight:bold}dd{margin:0 0 .4rem 1.5rem}
        """
}
