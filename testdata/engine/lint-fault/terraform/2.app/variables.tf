variable "owner" {
  description = "Who owns this layer."
}
