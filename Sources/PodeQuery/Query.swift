public enum PodeQueryPlaceholder {}
