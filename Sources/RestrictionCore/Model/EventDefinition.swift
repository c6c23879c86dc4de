import Foundation
import Shared

/// An event `POST /event` accepts: `user_id` always, plus its fields.
struct EventDefinition: Sendable, Equatable {
    struct Field: Sendable, Equatable {
        enum FieldType: String, Sendable { case text, amount }
        var name: String
        var type: FieldType
        init(_ name: String, _ type: FieldType) {
            self.name = name
            self.type = type
        }
    }

    var name: String
    var fields: [Field]

    init(_ name: String, fields: [Field] = []) {
        self.name = name
        self.fields = fields
    }
}
