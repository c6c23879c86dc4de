import Shared

/// FlagService's OpenAPI 3.1 document.
public enum FlagOpenAPI {
    public static let document = OpenAPIDocument(title: "FlagService")
}
