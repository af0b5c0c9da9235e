fn main() {
    println!("ecr-audit");
}
