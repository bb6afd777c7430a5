/// Image sources across schemas: `data:` URLs (OpenAI) and Converse's image formats.
enum MediaTypes {
    /// The media type and base64 payload of a `data:<type>;base64,<data>` URL; `nil` for any other URL.
    static func parseDataURL(_ url: String) -> (mediaType: String, data: String)? {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") else { return nil }
        let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
        guard header.hasSuffix(";base64") else { return nil }
        let mediaType = header.dropLast(";base64".count)
        guard !mediaType.isEmpty else { return nil }
        return (String(mediaType).lowercased(), String(url[url.index(after: comma)...]))
    }

    static func dataURL(mediaType: String, data: String) -> String {
        "data:\(mediaType);base64,\(data)"
    }

    /// Converse `image.format` for a media type (`png`, `jpeg`, `gif`, `webp`).
    static func converseImageFormat(_ mediaType: String) -> String? {
        switch mediaType.lowercased() {
        case "image/png": return "png"
        case "image/jpeg", "image/jpg": return "jpeg"
        case "image/gif": return "gif"
        case "image/webp": return "webp"
        default: return nil
        }
    }

    /// The media types Anthropic accepts for base64 images.
    static func isAnthropicImageType(_ mediaType: String) -> Bool {
        ["image/png", "image/jpeg", "image/gif", "image/webp"].contains(mediaType.lowercased())
    }

    static func isHTTPURL(_ url: String) -> Bool {
        let lower = url.prefix(8).lowercased()
        return lower.hasPrefix("https://") || lower.hasPrefix("http://")
    }
}
